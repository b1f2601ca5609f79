// Shipped model names: `--model smallholder` means the file smallholder.fsm in the first of the
// model folders that has it. Folders, in order: each entry of $FIELDSEG_MODELS (colon-separated),
// <executable>/../share/fieldseg/models (an install), the source tree's models/ (a build tree).
#pragma once

#include <string>
#include <vector>

namespace fieldseg::cli {

/// The folders searched for shipped models, in order (existing ones only).
std::vector<std::string> modelFolders();

/// `value` as given when it names an existing file (or is empty); else, when it is a bare name
/// (letters, digits, '_', '-', '.', no folder) and NAME.fsm (or NAME itself) is in a model
/// folder, that path. Otherwise throws UsageError naming the folders searched and the command that
/// lists the shipped models. `flag` is the option's name for the message.
std::string resolveModel(const std::string& value, const std::string& flag);

struct ModelEntry {
  std::string name, path;
};
/// Every *.fsm in the model folders, the first folder winning for a repeated name, sorted by name.
std::vector<ModelEntry> shippedModels();

}  // namespace fieldseg::cli
