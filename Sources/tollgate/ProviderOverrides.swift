import ArgumentParser
import TollgateModel

/// `--upstream PROVIDER=URL` flags, `TOLLGATE_UPSTREAM_<PROVIDER>` variables and the configuration file's
/// `upstream:` entries applied to the provider table; flags win over the environment, and it over the file.
enum ProviderOverrides {
    static func apply(
        file: [String] = [], flags: [String], environment: [String: String], to table: ProviderTable
    ) throws -> ProviderTable {
        var table = table
        var overrides: [(String, String)] = []
        for entry in file {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            overrides.append((String(entry[..<eq]), String(entry[entry.index(after: eq)...])))
        }
        for slug in table.slugs {
            let name = "TOLLGATE_UPSTREAM_" + slug.uppercased().replacingOccurrences(of: "-", with: "_")
            if let url = environment[name], !url.isEmpty { overrides.append((slug, url)) }
        }
        for flag in flags {
            guard let eq = flag.firstIndex(of: "="), eq != flag.startIndex else {
                throw ValidationError("--upstream expects PROVIDER=URL, got \(flag)")
            }
            overrides.append((String(flag[..<eq]), String(flag[flag.index(after: eq)...])))
        }
        for (slug, url) in overrides {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ValidationError("upstream URL for \(slug) must start with http:// or https://")
            }
            guard let updated = table.overriding(slug, baseURL: url) else {
                throw ValidationError("unknown provider \(slug); known: \(table.slugs.joined(separator: ", "))")
            }
            table = updated
        }
        return table
    }
}
