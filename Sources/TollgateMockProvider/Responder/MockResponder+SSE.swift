import NIOCore

extension MockResponder {
    /// One unnamed server-sent event: `data: <json>\n\n`.
    func dataEvent(_ allocator: ByteBufferAllocator, _ writeJSON: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        buffer.writeStaticString("data: ")
        writeJSON(&buffer)
        buffer.writeStaticString("\n\n")
        return buffer
    }

    /// One named server-sent event: `event: <name>\ndata: <json>\n\n`.
    func namedEvent(
        _ name: String, _ allocator: ByteBufferAllocator, _ writeJSON: (inout ByteBuffer) -> Void
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        buffer.writeStaticString("event: ")
        buffer.writeString(name)
        buffer.writeStaticString("\ndata: ")
        writeJSON(&buffer)
        buffer.writeStaticString("\n\n")
        return buffer
    }
}
