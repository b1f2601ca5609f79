// Provenance records of the CLI (OUT.run.json beside each output): when and how a run was made,
// from which exact inputs. One file per output file, named after its full name, so f.gpkg and
// f.geojsonl keep one record each.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fieldseg::cli {

/// The process's command line, as main() received it (set once there).
void setCommandLine(int argc, char** argv);
const std::vector<std::string>& commandLine();

/// Now, ISO 8601 UTC to the second ("2026-12-02T05:01:09Z").
std::string utcNow();

/// The fields every run record opens with: command, fieldseg_version, command_line, started_utc
/// (when given) and finished_utc (now).
nlohmann::json runRecordHead(const std::string& command, const std::string& startedUtc = "");

/// OUT + ".run.json".
std::string runRecordPath(const std::string& out);

/// {"path": absolute path, "bytes": size} for a local file; {"path": p} for /vsi... paths, URLs and
/// files that do not exist.
nlohmann::json fileEntry(const std::string& path);

/// Writes `text` and a newline to `path` through a temp sibling renamed into place. `command` names
/// the subcommand in the IoError.
void writeTextAtomically(const std::string& path, const std::string& text,
                         const std::string& command);

}  // namespace fieldseg::cli
