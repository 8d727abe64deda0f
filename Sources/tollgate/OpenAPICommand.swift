import ArgumentParser
import TollgateGateway

/// `tollgate openapi`: the REST API's OpenAPI 3.1 document, as `GET /api/v1/openapi.json` serves it (the committed
/// copy `Sources/TollgateGateway/API/openapi.json` is this output).
struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi", abstract: "Print the REST API's OpenAPI 3.1 document (JSON).")

    func run() {
        print(APIRouter.openAPIDocument(), terminator: "")
    }
}
