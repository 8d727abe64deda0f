import Testing
import TollgateModel

@Suite struct RFC3339Tests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(RFC3339.format(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(milliseconds: 1_764_075_845_123) == "2025-11-25T13:04:05.123Z")
        #expect(RFC3339.format(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func parsesOffsetsAndFractions() {
        #expect(RFC3339.parse("2025-11-25T13:04:05.123Z") == 1_764_075_845_123)
        #expect(RFC3339.parse("2025-11-25T13:04:05Z") == 1_764_075_845_000)
        #expect(RFC3339.parse("2025-11-25T14:04:05.1+01:00") == 1_764_075_845_100)
        #expect(RFC3339.parse("2025-11-25T13:04:05.123456789Z") == 1_764_075_845_123)
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
    }

    @Test func rejectsMalformed() {
        for bad in ["", "2025-11-25", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2025-11-25T13:04:05",
                    "2025-11-25T13:04:05.Z", "2025-11-25T25:00:00Z", "yesterday", "2025-11-25T13:04:05Zjunk"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func roundTripsAcrossYears() {
        var ms: Int64 = -2_000_000_000_000
        while ms < 4_000_000_000_000 {
            #expect(RFC3339.parse(RFC3339.format(milliseconds: ms)) == ms)
            ms += 37_123_456_789
        }
    }
}
