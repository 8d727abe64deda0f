import ArgumentParser
import TollgateGateway

/// `tollgate routes`: the REST API's reference, written from the route declarations the server checks requests
/// against (the README's API section is this output).
struct RoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "Print the REST API's routes with their query parameters and body fields (Markdown).")

    func run() {
        print(APIRouter.markdownReference(), terminator: "")
    }
}
