// Subcommand registry of the `fieldseg` executable. Each tools/cli/<verb>_command.cpp defines one
// static Registrar; main() builds the CLI11 app from the registry in `order`.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "fieldseg/stac.hpp"

namespace fieldseg::cli {

/// Adds the subcommand's options to `sub` and sets its callback (which does the work and may throw
/// fieldseg::Error / UsageError).
using Setup = std::function<void(CLI::App& sub)>;

struct Entry {
  std::string name;
  std::string description;
  int order = 0;
  Setup setup;
};

std::vector<Entry>& registry();

/// Splits a comma-separated flag value ("red,green,blue"), dropping empty items.
inline std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

/// The dates one IMAGE argument names, each as the files openRaster stacks: a comma-separated
/// list of single-band files is one date; a STAC ItemCollection / search result is one date per
/// item (`COLLECTION.json#ITEM_ID`); anything else (a raster, a STAC item) is one date.
inline std::vector<std::vector<std::string>> imageDateFiles(const std::string& image) {
  const std::vector<std::string> files = splitList(image);
  if (files.size() != 1) return {files};
  std::vector<std::vector<std::string>> dates;
  for (const auto& d : imageDates(files.front())) dates.push_back({d});
  return dates;
}

struct Registrar {
  Registrar(std::string name, std::string description, int order, Setup setup) {
    registry().push_back({std::move(name), std::move(description), order, std::move(setup)});
  }
};

}  // namespace fieldseg::cli
