// Temporary files beside outputs, named so that a later run recognises the leftovers of a killed
// one (kill -9, power loss) and removes them.
//
// Every temp file fieldseg writes next to an output is `<stem>.fieldseg-tmp-<pid>@<host>@<n><ext>`
// (`<ext>` kept so GDAL drivers see the right format). removeStaleTemps() deletes those of this
// host whose process no longer runs; other hosts' files (a shared cluster folder) are left alone.
#pragma once

#include <string>

namespace fieldseg {

/// A fresh temp path in the folder of `path`: "<dir>/<stem>.fieldseg-tmp-<pid>@<host>@<n><ext>".
/// The name is announced to fileEnv().willCreate (fieldseg/file_env.hpp), which a test may make
/// refuse it with IoError. A finished temp file becomes the output through publishFile().
std::string tempSibling(const std::string& path);

/// True when `name` (a file name, no folder) is a fieldseg temp file of this host whose process is
/// gone.
bool isStaleTempName(const std::string& name);

/// Removes the stale temp files (isStaleTempName) directly inside `dir`, and stale scratch folders
/// named the same way (with what they hold); returns how many. Errors
/// (an unreadable folder, a file another user owns) are ignored: the caller's own writes report
/// real problems.
int removeStaleTemps(const std::string& dir);

/// Writes `content` to `path` atomically on POSIX file systems: a tempSibling in the same folder,
/// fsync, publishFile (rename, fsync of the folder); creates missing parent folders. Readers (a
/// rerun, merge) see the old file or the complete new one, never a prefix, even when the writer is
/// killed; a killed writer's temp file is one removeStaleTemps() recognises. Throws IoError.
void writeFileAtomically(const std::string& path, const std::string& content);

}  // namespace fieldseg
