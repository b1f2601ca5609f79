// Guards shared by the subcommands: on the paths they are given and on the size of the work.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

namespace fieldseg::cli {

/// A (flag, path) pair as the user typed it, e.g. {"--out", "fields.gpkg"}.
using NamedPath = std::pair<std::string, std::string>;

/// Throws UsageError when an output path names the same file as an input or as another output
/// (after resolving ".", "..", symbolic links and relative paths), so a typo cannot overwrite the
/// image, the manifest or another output. Empty paths, GDAL virtual paths (/vsi...) and URLs are
/// not compared. An input may be a comma-separated list of files (one date's bands).
void refuseSamePaths(const std::string& command, const std::vector<NamedPath>& outputs,
                     const std::vector<NamedPath>& inputs);

/// True for the vector outputs writeFields knows: .geojson/.json, .geojsonl/.geojsons, .gpkg, .fgb.
bool knownVectorExtension(const std::string& path);

/// Throws UsageError naming `flag` when `path` has an extension writeFields does not know: checked
/// before the work, not when writing its result.
void checkVectorOutput(const std::string& command, const std::string& flag,
                       const std::string& path);

/// Throws IoError when the folder `path` would be written in does not exist or is not writable:
/// checked before a long run (training, calibration), not after it. Empty paths pass.
void checkOutputFolder(const std::string& command, const std::string& flag,
                       const std::string& path);

/// Throws UsageError when `pixels` exceeds `maxMpx` megapixels: a declared size (a VRT or sparse
/// TIFF can declare 1e12 pixels in a few bytes, --gsd can multiply a small image) is refused up
/// front, with the figure, instead of allocating or running for days. `what` names the work
/// ("the processed window"), `flag` the option that raises the budget ("" = none). maxMpx <= 0:
/// no limit.
void checkPixelBudget(const std::string& command, const std::string& what, double pixels,
                      double maxMpx, const std::string& flag);

/// Declares --gsd (GSD in metres, 0.01-100000) and --max-mpx (the pixel budget above, 0 = no
/// limit) on `sub`, the same way in every command that reads imagery. `gsdHelp` and `budgetOf`
/// ("an image", "a processed window") fill in the help texts.
void addGsdAndBudgetOptions(CLI::App& sub, double& gsdM, double& maxMpx, const std::string& gsdHelp,
                            const std::string& budgetOf);

/// The model commands' --gsd (delineate, calibrate): "auto" (default: the image's own GSD,
/// resampled on read into the model card's gsd_range_m when it lies outside), "native", or metres
/// in [0.01, 100000]; checked when parsed, with --max-mpx beside it.
void addModelGsdAndBudgetOptions(CLI::App& sub, std::string& gsd, double& maxMpx,
                                 const std::string& budgetOf);
/// --gsd as DelineateOptions::gsdM: metres, or 0 for auto / native (the native grid).
double parseGsdFlag(const std::string& gsd, const std::string& command);
/// --gsd auto: when `native` lies outside `range`, sets `gsdM` to the range's nearer end and
/// returns a note saying so (for the log and the run record); else "" and `gsdM` untouched.
std::string autoGsdNote(double native, const std::pair<double, double>& range, double& gsdM);

}  // namespace fieldseg::cli
