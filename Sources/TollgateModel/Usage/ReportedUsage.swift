/// The raw counts one provider response reported, by the field they came from, before normalisation.
///
/// Field names differ between APIs and so does what they include, so counts are kept apart here and combined
/// once, in `normalized()`. Streams merge their events into one value: for each field the latest reported
/// value wins (`merge(_:)`), which is right for every provider because streamed counts are cumulative.
struct ReportedUsage: Equatable {
    /// `prompt_tokens` (chat, embeddings, compatible providers) or `input_tokens` (Responses, Anthropic).
    var input: Int64?
    /// `completion_tokens` or `output_tokens`.
    var output: Int64?
    /// `total_tokens` / `totalTokenCount`.
    var total: Int64?
    /// `prompt_tokens_details.cached_tokens` / `input_tokens_details.cached_tokens`: part of `input`.
    var cachedDetail: Int64?
    /// DeepSeek `prompt_cache_hit_tokens`: part of `input`.
    var cacheHit: Int64?
    /// `prompt_tokens_details.cache_write_tokens` / `input_tokens_details.cache_write_tokens` (OpenAI-style prompt-cache
    /// writes, as OpenRouter reports them): part of `input`.
    var cacheWriteDetail: Int64?
    /// `completion_tokens_details.reasoning_tokens` / `output_tokens_details.reasoning_tokens`.
    var reasoningDetail: Int64?
    /// Perplexity's top-level `usage.reasoning_tokens` (Sonar Deep Research): a reasoning step billed apart and
    /// counted outside `completion_tokens` and `total_tokens`.
    var reasoningTop: Int64?
    /// Perplexity's `usage.citation_tokens`: search results read as input, outside `prompt_tokens`.
    var citation: Int64?
    /// Anthropic `cache_read_input_tokens`: on top of `input`.
    var anthropicCacheRead: Int64?
    /// Anthropic `cache_creation_input_tokens`: on top of `input`.
    var anthropicCacheCreation: Int64?
    /// Anthropic `cache_creation.ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens`.
    var anthropicCache5m: Int64?
    var anthropicCache1h: Int64?
    /// Gemini `usageMetadata`.
    var geminiPrompt: Int64?
    var geminiCandidates: Int64?
    var geminiThoughts: Int64?
    var geminiCachedContent: Int64?
    var geminiToolUsePrompt: Int64?
    /// Cohere v2 `usage.tokens` (what the model processed), used only when no billed count is reported.
    var cohereTokensIn: Int64?
    var cohereTokensOut: Int64?
    /// Hugging Face text-generation-inference `details.input_length` and `details.generated_tokens`, used only when
    /// no `usage` count is reported.
    var tgiInputLength: Int64?
    var tgiGeneratedTokens: Int64?
    /// `service_tier` (OpenAI, Groq: top level; Anthropic: inside `usage`).
    var serviceTier: String?

    var isEmpty: Bool { self == ReportedUsage() }

    /// Takes every field `newer` reported; keeps the others.
    mutating func merge(_ newer: ReportedUsage) {
        if let v = newer.input { input = v }
        if let v = newer.output { output = v }
        if let v = newer.total { total = v }
        if let v = newer.cachedDetail { cachedDetail = v }
        if let v = newer.cacheHit { cacheHit = v }
        if let v = newer.cacheWriteDetail { cacheWriteDetail = v }
        if let v = newer.reasoningDetail { reasoningDetail = v }
        if let v = newer.reasoningTop { reasoningTop = v }
        if let v = newer.citation { citation = v }
        if let v = newer.anthropicCacheRead { anthropicCacheRead = v }
        if let v = newer.anthropicCacheCreation { anthropicCacheCreation = v }
        if let v = newer.anthropicCache5m { anthropicCache5m = v }
        if let v = newer.anthropicCache1h { anthropicCache1h = v }
        if let v = newer.geminiPrompt { geminiPrompt = v }
        if let v = newer.geminiCandidates { geminiCandidates = v }
        if let v = newer.geminiThoughts { geminiThoughts = v }
        if let v = newer.geminiCachedContent { geminiCachedContent = v }
        if let v = newer.geminiToolUsePrompt { geminiToolUsePrompt = v }
        if let v = newer.cohereTokensIn { cohereTokensIn = v }
        if let v = newer.cohereTokensOut { cohereTokensOut = v }
        if let v = newer.tgiInputLength { tgiInputLength = v }
        if let v = newer.tgiGeneratedTokens { tgiGeneratedTokens = v }
        if let v = newer.serviceTier { serviceTier = v }
    }

    /// The counts in Tollgate's terms (see `Usage`):
    ///
    /// - `tokensIn` = `input` + Anthropic cache reads + Anthropic cache writes (Anthropic reports them apart from
    ///   `input_tokens`; OpenAI-style `cached_tokens` are already inside `prompt_tokens`) + Perplexity citation
    ///   tokens (search results read as input, reported apart from `prompt_tokens`); for Gemini
    ///   `promptTokenCount` (cached content included) + `toolUsePromptTokenCount`.
    /// - `tokensOut` = `output`, which includes reasoning for OpenAI and the providers that follow it, plus
    ///   reasoning counted outside it: Perplexity's top-level `reasoning_tokens`, and reasoning an xAI-style
    ///   response leaves out of `completion_tokens` (recognised by `total_tokens` = input + output + reasoning).
    ///   When no output count is reported but `total_tokens` is, output = total − input: an embeddings response
    ///   (`total_tokens` = `prompt_tokens`) records 0 output tokens because its usage object says so, while a
    ///   response without any usage records nil. Gemini: `candidatesTokenCount` + `thoughtsTokenCount`.
    /// - `cachedTokensIn`: `cached_tokens`, else DeepSeek `prompt_cache_hit_tokens`, Anthropic
    ///   `cache_read_input_tokens` or Gemini `cachedContentTokenCount`.
    /// - `cacheWriteTokens`: Anthropic `cache_creation_input_tokens` (else the sum of its TTL split), or
    ///   the OpenAI-style `cache_write_tokens`; `cacheWrite1hTokens`: Anthropic `ephemeral_1h_input_tokens`.
    /// - Bedrock's `inputTokens`/`outputTokens` count as `input`/`output`, its `cacheReadInputTokens` and
    ///   `cacheWriteInputTokens` as Anthropic's cache reads and writes (counted apart from `inputTokens`). Cohere's
    ///   `billed_units` counts as `input`/`output`; its `tokens` only when no billed count was reported.
    ///   Hugging Face text-generation-inference's `details.input_length`/`details.generated_tokens` count as
    ///   `input`/`output` when no `usage` reported them.
    /// - `reasoningTokens`: `reasoning_tokens` in the output details, else Gemini `thoughtsTokenCount`, else
    ///   Perplexity's top-level `reasoning_tokens`.
    func normalized() -> Usage {
        var usage = Usage(serviceTier: serviceTier)
        let isGemini = input == nil && (geminiPrompt != nil || geminiCandidates != nil || geminiThoughts != nil)

        if isGemini {
            usage.tokensIn = geminiPrompt.map { $0 &+ (geminiToolUsePrompt ?? 0) }
            if geminiCandidates != nil || geminiThoughts != nil {
                usage.tokensOut = (geminiCandidates ?? 0) &+ (geminiThoughts ?? 0)
            } else if let total, let tokensIn = usage.tokensIn, total >= tokensIn {
                usage.tokensOut = total - tokensIn
            }
            usage.cachedTokensIn = geminiCachedContent
            usage.reasoningTokens = geminiThoughts
            return usage
        }

        let input = input ?? cohereTokensIn ?? tgiInputLength
        let output = output ?? cohereTokensOut ?? tgiGeneratedTokens
        usage.tokensIn = input.map {
            $0 &+ (anthropicCacheRead ?? 0) &+ (anthropicCacheCreation ?? 0) &+ (citation ?? 0)
        }
        usage.reasoningTokens = reasoningDetail ?? reasoningTop
        if let output {
            usage.tokensOut = output
            if reasoningDetail == nil, let reasoningTop {
                usage.tokensOut = output &+ reasoningTop
            } else if let reasoning = reasoningDetail, reasoning > 0, let input, let total,
                total != input &+ output, total == input &+ output &+ reasoning
            {
                usage.tokensOut = output &+ reasoning
            }
        } else if let total, let input, total >= input {
            usage.tokensOut = total - input
        }
        usage.cachedTokensIn = cachedDetail ?? cacheHit ?? anthropicCacheRead
        if let anthropicCacheCreation {
            usage.cacheWriteTokens = anthropicCacheCreation
        } else if anthropicCache5m != nil || anthropicCache1h != nil {
            usage.cacheWriteTokens = (anthropicCache5m ?? 0) &+ (anthropicCache1h ?? 0)
        } else {
            usage.cacheWriteTokens = cacheWriteDetail
        }
        usage.cacheWrite1hTokens = anthropicCache1h
        return usage
    }
}
