import TollgateModel

/// Where the proxy hands finished exchanges. `submit` never blocks and never fails the response: an
/// implementation that cannot take the exchange drops it and counts the drop. The exchange is given up to the sink
/// (a queue keeps it without copying it, which would retain each of its strings and arrays).
public protocol ExchangeSink: Sendable {
    func submit(_ exchange: consuming Exchange)
}
