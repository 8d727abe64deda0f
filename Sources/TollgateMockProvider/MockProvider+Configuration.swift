extension MockProvider {
    /// How the mock provider answers. All defaults give a deterministic, realistic-looking provider.
    public struct Configuration: Sendable {
        /// The assistant's reply; its word count is the reported output token count.
        public var replyText: String = "This is a deterministic reply from the Tollgate mock provider."
        /// Unix time reported as `created` / `created_at` in every response.
        public var createdTimestamp: Int = 1_767_225_600
        /// Embedding length when the request gives no `dimensions`.
        public var embeddingDimensions: Int = 1536
        /// Event-loop threads of the server's own group (when no group is passed to the initializer).
        public var threads: Int = 1
        /// Largest accepted request body; bigger bodies get 413.
        public var maximumBodySize: Int = 32 * 1024 * 1024
        /// When set, Bedrock requests must carry a SigV4 signature made with this secret access key (and, when
        /// `awsAccessKeyID` is set, that key id); others are answered 403 as AWS answers them.
        public var awsSecretAccessKey: String?
        public var awsAccessKeyID: String?

        public init() {}
    }
}
