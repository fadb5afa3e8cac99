import SMSBridge

/// Everything the stub carrier remembers: accounts, accepted messages, idempotency keys, the
/// failure plan and the webhook log. One actor, so a check and the update that depends on it
/// (an idempotency key, the server-error countdown) happen as one step.
actor StubCarrierState {
    private struct IdempotencyKey: Hashable {
        var account: String
        var key: String
    }

    private var accounts: [String: StubAccount] = [:]
    /// Which account owns each number.
    private var owners: [String: String] = [:]
    private var sent: [SentMessage] = []
    private var sentIndex: [String: Int] = [:]
    private var idempotency: [IdempotencyKey: (request: SendMessageRequest, receipt: SendReceipt)] = [:]
    private var plan = FailurePlan()
    private var serverErrorsLeft = 0
    private var webhooks: [WebhookDelivery] = []

    enum Authentication {
        case unknownAccount
        case badToken
        case authenticated(StubAccount)
    }

    enum SendOutcome {
        /// A new message; `bounce` says its delivery report must be `failed`.
        case accepted(SendReceipt, bounce: Bool)
        /// The same idempotency key and request again: answer as before, send nothing.
        case replayed(SendReceipt)
        /// The same idempotency key with a different request.
        case conflict
    }

    enum AccountProblem: Error, CustomStringConvertible {
        case invalidNumber(String)
        case numberTaken(String, owner: String)

        var description: String {
            switch self {
            case .invalidNumber(let number):
                return "'\(number)' is not an E.164 number (+ then 8 to 15 digits)"
            case .numberTaken(let number, let owner):
                return "\(number) already belongs to account '\(owner)'"
            }
        }
    }

    // MARK: Accounts

    /// Adds or replaces an account; its numbers must be E.164 and not owned by another account.
    func putAccount(id: String, _ account: StubAccount) throws(AccountProblem) {
        for number in account.numbers {
            guard PhoneNumber(e164: number) != nil else { throw .invalidNumber(number) }
            if let owner = owners[number], owner != id { throw .numberTaken(number, owner: owner) }
        }
        if let previous = accounts[id] {
            for number in previous.numbers { owners[number] = nil }
        }
        accounts[id] = account
        for number in account.numbers { owners[number] = id }
    }

    func accountSummaries() -> [StubAccountSummary] {
        accounts.sorted { $0.key < $1.key }.map { id, account in
            StubAccountSummary(id: id, numbers: account.numbers, webhookURL: account.webhookURL)
        }
    }

    func authenticate(accountID: String, authorization: String?) -> Authentication {
        guard let account = accounts[accountID] else { return .unknownAccount }
        guard let authorization else { return .badToken }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", parts[1] == account.token else {
            return .badToken
        }
        return .authenticated(account)
    }

    /// The account owning `number`, with its id.
    func owner(of number: String) -> (id: String, account: StubAccount)? {
        guard let id = owners[number], let account = accounts[id] else { return nil }
        return (id, account)
    }

    func account(_ id: String) -> StubAccount? {
        accounts[id]
    }

    // MARK: Sending

    /// Consumes one planned server error, if any are left.
    func takeServerError() -> Bool {
        guard serverErrorsLeft > 0 else { return false }
        serverErrorsLeft -= 1
        return true
    }

    func failurePlan() -> FailurePlan {
        plan
    }

    /// Records an accepted send, or recognizes a retry by its idempotency key.
    func recordSend(
        account: String, request: SendMessageRequest, idempotencyKey: String?, segments: Int, newID: String
    ) -> SendOutcome {
        if let idempotencyKey {
            let key = IdempotencyKey(account: account, key: idempotencyKey)
            if let previous = idempotency[key] {
                return previous.request == request ? .replayed(previous.receipt) : .conflict
            }
            idempotency[key] = (request, SendReceipt(id: newID, segments: segments))
        }
        let receipt = SendReceipt(id: newID, segments: segments)
        sentIndex[newID] = sent.count
        sent.append(SentMessage(
            id: newID, account: account, from: request.from, to: request.to, text: request.text,
            segments: segments, idempotencyKey: idempotencyKey, status: "queued"))
        return .accepted(receipt, bounce: plan.bounceNumbers.contains(request.to))
    }

    func setStatus(of id: String, to status: DeliveryStatus) {
        guard let index = sentIndex[id] else { return }
        sent[index].status = status.rawValue
    }

    func sentMessages(to number: String?) -> [SentMessage] {
        guard let number else { return sent }
        return sent.filter { $0.to == number }
    }

    // MARK: Control

    func setFailurePlan(_ newPlan: FailurePlan) {
        plan = newPlan
        serverErrorsLeft = newPlan.serverErrors
    }

    /// The plan as it stands, with the server errors still to come.
    func currentFailurePlan() -> FailurePlan {
        var current = plan
        current.serverErrors = serverErrorsLeft
        return current
    }

    func recordWebhook(_ delivery: WebhookDelivery) {
        webhooks.append(delivery)
    }

    func webhookLog() -> [WebhookDelivery] {
        webhooks
    }

    /// Forgets everything but the accounts.
    func reset() {
        sent = []
        sentIndex = [:]
        idempotency = [:]
        plan = FailurePlan()
        serverErrorsLeft = 0
        webhooks = []
    }
}
