import NIOCore
import NIOHTTP1

/// A complete answer of the mock provider, built before anything is written, plus the faults to apply.
struct MockReply {
    enum Body {
        /// A body sent whole, with `content-length`.
        case full(ByteBuffer)
        /// Server-sent events, each written (and with a chunk delay, flushed) on its own.
        case events([ByteBuffer])
    }

    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: Body
    var fault: MockFault
}
