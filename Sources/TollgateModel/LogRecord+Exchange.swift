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
        self = withUnsafePointer(to: exchange) {
            LogRecord(exchange: $0, providers: providers, headerNames: &headerNames)
        }
    }

    /// As `init(exchange:providers:headerNames:)`, reading the exchange `exchange` points to where it lies: an
    /// exchange handed by value from a batch is copied first (each of its strings and buffers retained, then
    /// released).
    public init(
        exchange: UnsafePointer<Exchange>, providers: ProviderTable, headerNames: inout HeaderRedaction.NameMemo
    ) {
        // Gemini names the model and the stream mode in the path (`models/{model}:streamGenerateContent`), and so do
        // the templated providers that serve it or name the model there (Vertex AI, Bedrock).
        let provider = providers.provider(exchange.pointee.provider)
        let template = provider?.template
        var request = (exchange.pointee.requestSummary ?? RequestSummary(body: exchange.pointee.requestBody))
            .completed(
                path: (exchange.pointee.declaredAPI ?? provider?.api) == .gemini && template == nil
                    ? exchange.pointee.path : "")
        if let provider { request.model = provider.model(path: exchange.pointee.path, bodyModel: request.model) }
        if let template {
            if !request.stream && template.streams(path: exchange.pointee.path) { request.stream = true }
        } else if provider?.api == .bedrock, let route = BedrockUsage.route(path: exchange.pointee.path) {
            // A Bedrock provider without a template (`--upstream` to a plain base URL) names them the same way.
            request.model = request.model ?? route.modelID
            request.stream = request.stream || route.operation.streams
        }

        // A malformed header was refused by the proxy with a 400; one that reaches here parses.
        var customCost: CustomCost?
        for header in exchange.pointee.requestHeaders where ASCII.equalsIgnoringCase(header.name, "cf-aig-custom-cost")
        {
            customCost = try? CustomCostHeader.parse(header.value)
        }

        // Read on the response's bytes: the last `content-type` and `content-encoding`, as before.
        var eventStream = false
        var encoded = false
        exchange.pointee.responseHeaders.forEachHeader { _, name, value in
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
            : exchange.pointee.responseUsage
                ?? UsageParser.parse(body: exchange.pointee.responseBody, eventStream: eventStream)
        if !exchange.pointee.readsUsage { parsed.usage = Usage() }

        let logged = exchange.pointee.logged && exchange.pointee.refusal == nil
        let payload = exchange.pointee.collectPayload && logged
        // A usage record keeps what bills the request, nothing of its content.
        var path = ""
        if logged {
            path = exchange.pointee.path
            if let query = exchange.pointee.query, !query.isEmpty {
                path += "?"
                path += QueryRedaction.redact(query)
            }
        }

        self.init(
            id: exchange.pointee.id,
            createdAt: exchange.pointee.startedAt,
            account: exchange.pointee.account,
            gateway: exchange.pointee.gateway,
            provider: exchange.pointee.provider,
            model: template?.prefersResponseModel == true
                ? parsed.model ?? request.model : request.model ?? parsed.model,
            path: path,
            method: exchange.pointee.method,
            statusCode: exchange.pointee.statusCode,
            success: (200..<300).contains(exchange.pointee.statusCode) && exchange.pointee.error == nil,
            stream: request.stream || eventStream,
            durationMicros: exchange.pointee.durationMicros,
            ttftMicros: exchange.pointee.ttftMicros,
            usage: parsed.usage,
            requestSize: exchange.pointee.requestSize,
            responseSize: exchange.pointee.responseSize,
            error: logged ? exchange.pointee.error : nil,
            metadata: logged ? exchange.pointee.metadata : [],
            requestHeaders: payload ? headerNames.redact(exchange.pointee.requestHeaders) : [],
            responseHeaders: payload ? headerNames.redact(exchange.pointee.responseHeaders) : [],
            requestBody: payload ? exchange.pointee.requestBody : [],
            responseBody: payload ? exchange.pointee.responseBody : [],
            payloadStored: payload,
            customCost: customCost,
            logged: logged,
            eventID: exchange.pointee.eventID.flatMap { $0 == exchange.pointee.id.description ? nil : $0 },
            attempt: exchange.pointee.attempt,
            step: exchange.pointee.step,
            cached: exchange.pointee.cached,
            refusal: exchange.pointee.refusal
        )
    }
}
