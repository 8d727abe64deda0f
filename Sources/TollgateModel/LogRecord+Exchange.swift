extension LogRecord {
    /// Turns what the proxy captured into the record to store: the ingest stage calls this once per request,
    /// off the proxy's event loops.
    ///
    /// - `model`: the request body's `model`, else, for `.gemini` providers, the model in the path
    ///   (`models/{model}:generateContent` is how that request names its model) — for templated providers the model
    ///   their path names (`ProviderTemplate.model(inPath:)`) — else the response's `model` / `modelVersion`. For
    ///   `azure-openai` the response's model comes first: the request names a deployment, not a model. For
    ///   `workers-ai`'s REST run and `huggingface` the path's model comes first: it is the model that runs
    ///   (`Provider.model(path:bodyModel:)`).
    /// - `stream`: the request's `"stream": true`, a `text/event-stream` or `application/vnd.amazon.eventstream`
    ///   response, or a streaming path (Gemini
    ///   `:streamGenerateContent`, Vertex AI `:streamRawPredict`, Bedrock `converse-stream` /
    ///   `invoke-with-response-stream`).
    /// - `success`: a 2xx status and no gateway error.
    /// - model, stream and usage: what the proxy read as the bodies passed (`requestSummary`, `responseUsage`), else
    ///   parsed from the captured bodies.
    /// - usage: parsed from the response body (`UsageParser`); a body sent with a `content-encoding` other than
    ///   `identity` cannot be read here and gives unknown usage.
    /// - a custom provider's declared API (`declaredAPI`) stands in for the table's; one declared with `none`
    ///   (`readsUsage == false`) gets unknown usage.
    /// - `customCost`: from the `cf-aig-custom-cost` request header.
    /// - `logged == false` (no log kept): a usage record — usage, model, times and status only; no payload, path,
    ///   metadata or error text.
    /// - `path`: the forwarded path plus the query with secret parameters redacted (`QueryRedaction`).
    /// - `eventID`: kept only when it is not the log's own id (the first attempt of an event is its id); `attempt`,
    ///   `step` and `cached` as the proxy set them.
    /// - `refusal`: a request the gateway refused (rate limit, spend limit) is a usage record (`logged == false`)
    ///   whatever the gateway's log settings, so it never counts against the log quota.
    /// - headers: names lowercased, secrets redacted (`HeaderRedaction`); with `collectPayload == false` headers
    ///   and bodies are dropped and `payloadStored` is false. Usage and model are parsed either way.
    public init(exchange: borrowing Exchange, providers: ProviderTable) {
        var headerNames = HeaderRedaction.NameMemo()
        self.init(exchange: exchange, providers: providers, headerNames: &headerNames)
    }

    /// As `init(exchange:providers:)`, remembering the header names it redacts in `headerNames` (the store's thread
    /// keeps one for all its records).
    public init(exchange: borrowing Exchange, providers: ProviderTable, headerNames: inout HeaderRedaction.NameMemo) {
        // Gemini names the model and the stream mode in the path (`models/{model}:streamGenerateContent`), and so do
        // the templated providers that serve it or name the model there (Vertex AI, Bedrock).
        let provider = providers.provider(exchange.provider)
        let template = provider?.template
        var request = (exchange.requestSummary ?? RequestSummary(body: exchange.requestBody))
            .completed(
                path: (exchange.declaredAPI ?? provider?.api) == .gemini && template == nil ? exchange.path : "")
        if let provider { request.model = provider.model(path: exchange.path, bodyModel: request.model) }
        if let template {
            if !request.stream && template.streams(path: exchange.path) { request.stream = true }
        } else if provider?.api == .bedrock, let route = BedrockUsage.route(path: exchange.path) {
            // A Bedrock provider without a template (`--upstream` to a plain base URL) names them the same way.
            request.model = request.model ?? route.modelID
            request.stream = request.stream || route.operation.streams
        }

        // A malformed header was refused by the proxy with a 400; one that reaches here parses.
        var customCost: CustomCost?
        for header in exchange.requestHeaders where ASCII.equalsIgnoringCase(header.name, "cf-aig-custom-cost") {
            customCost = try? CustomCostHeader.parse(header.value)
        }

        // Read on the response's bytes: the last `content-type` and `content-encoding`, as before.
        var eventStream = false
        var encoded = false
        exchange.responseHeaders.forEachHeader { _, name, value in
            if name.count == 12 && ASCII.hasPrefix(name, at: 0, "content-type") {
                eventStream =
                    ASCII.contains(value, "text/event-stream")
                    || ASCII.contains(value, "application/vnd.amazon.eventstream")
            } else if name.count == 16 && ASCII.hasPrefix(name, at: 0, "content-encoding") {
                encoded = !value.isEmpty && !(value.count == 8 && ASCII.hasPrefix(value, at: 0, "identity"))
            }
        }
        var parsed =
            encoded
            ? ResponseUsage()
            : exchange.responseUsage ?? UsageParser.parse(body: exchange.responseBody, eventStream: eventStream)
        if !exchange.readsUsage { parsed.usage = Usage() }

        let logged = exchange.logged && exchange.refusal == nil
        let payload = exchange.collectPayload && logged
        // A usage record keeps what bills the request, nothing of its content.
        var path = ""
        if logged {
            path = exchange.path
            if let query = exchange.query, !query.isEmpty {
                path += "?"
                path += QueryRedaction.redact(query)
            }
        }

        self.init(
            id: exchange.id,
            createdAt: exchange.startedAt,
            account: exchange.account,
            gateway: exchange.gateway,
            provider: exchange.provider,
            model: template?.prefersResponseModel == true
                ? parsed.model ?? request.model : request.model ?? parsed.model,
            path: path,
            method: exchange.method,
            statusCode: exchange.statusCode,
            success: (200..<300).contains(exchange.statusCode) && exchange.error == nil,
            stream: request.stream || eventStream,
            durationMicros: exchange.durationMicros,
            ttftMicros: exchange.ttftMicros,
            usage: parsed.usage,
            requestSize: exchange.requestSize,
            responseSize: exchange.responseSize,
            error: logged ? exchange.error : nil,
            metadata: logged ? exchange.metadata : [],
            requestHeaders: payload ? headerNames.redact(exchange.requestHeaders) : [],
            responseHeaders: payload ? headerNames.redact(exchange.responseHeaders) : [],
            requestBody: payload ? exchange.requestBody : [],
            responseBody: payload ? exchange.responseBody : [],
            payloadStored: payload,
            customCost: customCost,
            logged: logged,
            eventID: exchange.eventID.flatMap { $0 == exchange.id.description ? nil : $0 },
            attempt: exchange.attempt,
            step: exchange.step,
            cached: exchange.cached,
            refusal: exchange.refusal
        )
    }
}
