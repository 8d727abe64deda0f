import Testing
import TollgateModel

/// Exact decimals and the `cf-aig-custom-cost` header: money enters as text and stays exact.
struct CustomCostTests {
    @Test func decimalsParseExactlyOrNotAtAll() {
        #expect(ExactDecimal.scaled("0.15", scale: 6) == 150_000)
        #expect(ExactDecimal.scaled("2", scale: 6) == 2_000_000)
        #expect(ExactDecimal.scaled("-3.000001", scale: 6) == -3_000_001)
        #expect(ExactDecimal.scaled("1e-06", scale: 12) == 1_000_000)
        #expect(ExactDecimal.scaled("2.5E-7", scale: 12) == 250_000)
        #expect(ExactDecimal.scaled("1.2e3", scale: 0) == 1200)
        #expect(ExactDecimal.scaled("0.0000001", scale: 6) == nil, "more decimals than the scale: not rounded")
        #expect(ExactDecimal.scaled("1e-13", scale: 12) == nil)
        #expect(ExactDecimal.scaled("1.50000000", scale: 1) == 15, "trailing zeros are not precision")
        for bad in ["", ".", "-", "1.", "1.2.3", "abc", "1e", "1e+", "0x10", "1,5"] {
            #expect(ExactDecimal.scaled(bad, scale: 6) == nil, "\(bad)")
        }
        #expect(ExactDecimal.text(375, scale: 12) == "0.000000000375")
        #expect(ExactDecimal.text(-1_500_000_000_000, scale: 12) == "-1.5")
        #expect(ExactDecimal.text(0, scale: 12) == "0")
    }

    @Test func headerGivesPerTokenOrTotalPrices() throws {
        #expect(
            try CustomCostHeader.parse(#"{"per_token_in":0.000001,"per_token_out":0.000002}"#)
                == .perToken(input: 1_000_000, output: 2_000_000))
        #expect(try CustomCostHeader.parse(#"{"per_token_out":3e-6}"#) == .perToken(input: 0, output: 3_000_000))
        #expect(try CustomCostHeader.parse(#" { "total_cost" : 0.0125 } "#) == .total(12_500_000_000))
        #expect(try CustomCostHeader.parse(#"{"total_cost":0}"#) == .total(0))
    }

    @Test func badHeadersAreRefusedWithTheirReason() {
        let cases: [(String, String)] = [
            ("not json", "not valid JSON"),
            ("[1]", "must be a JSON object"),
            (#"{}"#, "needs total_cost"),
            (#"{"total_cost":"1"}"#, "must be a number"),
            (#"{"total_cost":-1}"#, "non-negative"),
            (#"{"per_token_in":1e-13}"#, "at most 12 decimals"),
            (#"{"total_cost":1,"per_token_in":1}"#, "cannot be combined"),
            (#"{"price":1}"#, "unknown key"),
            (#"{"total_cost":1"#, "not valid JSON"),
        ]
        for (value, reason) in cases {
            #expect {
                try CustomCostHeader.parse(value)
            } throws: { error in
                guard let error = error as? ModelError else { return false }
                return error.code == .invalidCustomCost && error.message.contains(reason)
            }
        }
    }
}
