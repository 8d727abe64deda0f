import TollgateModel

/// Where the proxy hands finished exchanges. `submit` never blocks and never fails the response: an
/// implementation that cannot take the exchange drops it and counts the drop.
public protocol ExchangeSink: Sendable {
    func submit(_ exchange: Exchange)
}
