import Testing
import TollgateModel

/// `CSV` is the one CSV writer (the export, the monthly report): RFC 4180 quoting, CRLF rows.
@Suite struct CSVTests {
    @Test func quotesOnlyWhatMustBeQuotedAndDoublesQuotes() {
        #expect(CSV.field("gpt-5.4") == "gpt-5.4")
        #expect(CSV.field("") == "")
        #expect(CSV.field("é 🦆 'single'") == "é 🦆 'single'")
        #expect(CSV.field("a,b") == #""a,b""#)
        #expect(CSV.field(#"say "hi""#) == #""say ""hi""""#)
        #expect(CSV.field("line\nbreak") == "\"line\nbreak\"")
        #expect(CSV.field("carriage\rreturn") == "\"carriage\rreturn\"")
        // CRLF is one Character in Swift: it is a line break all the same.
        #expect(CSV.field("windows\r\nline") == "\"windows\r\nline\"")
    }

    @Test func aRowJoinsItsFieldsAndEndsInCRLF() {
        #expect(CSV.row(["2026-11", "a,b", "", "1"]) == "2026-11,\"a,b\",,1\r\n")
        #expect(CSV.row([]) == "\r\n")
    }
}
