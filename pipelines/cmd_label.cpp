// `memes label …`: list, set, rename, merge, drop/undrop, export, import, group and log of the
// labels in a store's catalog. Every change is one catalog transaction and is logged there.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "core/text.h"
#include "pipelines/command.h"
#include "store/label_csv.h"
#include "store/store.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> OpenExistingStore(const fs::path& dir);    // cmd_pack.cpp
Result<std::unique_ptr<store::Store>> OpenStoreForReading(const fs::path& dir);  // cmd_pack.cpp

namespace {

struct LabelArgs {
  std::string store_dir;
  std::vector<std::string> items;  // set: ITEM… LABEL; drop: ITEM…
  std::string first, second;       // rename/merge operands; export/import file
  bool create_class = false;       // set, merge, import: an unknown class name creates one
  bool dry_run = false;            // import: report, change nothing
};

// Resolves hashes or unique prefixes (at least 4 characters) to full blob hashes.
Result<std::vector<std::string>> ResolveItems(store::Catalog& catalog,
                                              const std::vector<std::string>& items) {
  std::vector<std::string> blobs;
  for (const std::string& item : items) {
    if (item.size() < 4) return InvalidArgument("give at least 4 hex characters of a hash", item);
    MEMES_ASSIGN_OR_RETURN(std::vector<std::string> found, catalog.ResolvePrefix(item, 2));
    if (found.empty()) return NotFound("no item with this hash or prefix", item);
    if (found.size() > 1) return InvalidArgument("ambiguous prefix (give more characters)", item);
    blobs.push_back(found[0]);
  }
  return blobs;
}

int Fail(const char* what, const Status& status) {
  std::cerr << "memes label " << what << ": " << status.ToString() << "\n";
  const bool usage =
      status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kNotFound;
  return usage ? kExitUsage : kExitItemsFailed;
}

int List(store::Store& store) {
  auto labels = store.catalog().Labels();
  if (!labels.ok()) return Fail("list", labels.status());
  // Padded by display width, not bytes: 柴犬 takes four columns and six bytes.
  int name_width = 22;
  for (const store::LabelInfo& label : *labels) {
    name_width = std::max(name_width, DisplayWidth(label.name));
  }
  name_width += 2;
  std::cout << PadRight("id", 6) << PadRight("label", name_width) << PadLeft("items", 10)
            << PadLeft("dropped", 10) << "\n";
  for (const store::LabelInfo& label : *labels) {
    std::cout << PadRight(std::to_string(label.id), 6) << PadRight(label.name, name_width)
              << PadLeft(std::to_string(label.items), 10)
              << PadLeft(std::to_string(label.dropped), 10)
              << (label.retired ? "  (retired by merge)" : "") << "\n";
  }
  return kExitOk;
}

// A class name as typed: trimmed like the CSV's cells (a pasted name brings spaces along).
std::string ClassName(const std::string& typed) { return std::string(TrimText(typed)); }

// Ok when `name` is a known class or `create` allows a new one.
Status CheckClass(store::Catalog& catalog, const std::string& name, bool create,
                  const std::string& create_flag) {
  if (create) return Status::Ok();
  MEMES_ASSIGN_OR_RETURN(const std::vector<std::string> known, store::KnownClasses(catalog));
  return store::CheckKnownClass(name, known, create_flag);
}

using Action = std::function<int(store::Store&, const LabelArgs&)>;
using Actions = std::map<CLI::App*, Action>;

void AddAction(Actions& actions, CLI::App* sub, Action action) {
  sub->fallthrough();  // `label rename A B --store S` reaches label's --store
  actions[sub] = std::move(action);
}

}  // namespace

void AddLabelCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* label = app.add_subcommand("label", "List, change, import and export labels");
  auto args = std::make_shared<LabelArgs>();
  label->add_option("--store", args->store_dir, "The store folder")->required();
  label->require_subcommand(1);
  label->footer("ITEM is a blob hash or a unique prefix of one (>= 4 hex characters).");
  auto actions = std::make_shared<Actions>();
  registry.Add(label, [label, args, actions] {
    const auto parsed = label->get_subcommands();
    if (parsed.empty() || !actions->count(parsed.front())) return kExitUsage;
    // Only the subcommands that change the catalog take the store's writer lock.
    const std::string name = parsed.front()->get_name();
    const bool reads_only = name == "list" || name == "export" || name == "log";
    auto store =
        reads_only ? OpenStoreForReading(args->store_dir) : OpenExistingStore(args->store_dir);
    if (!store.ok()) {
      std::cerr << "memes label: " << store.status().ToString() << "\n";
      return kExitUsage;
    }
    return actions->at(parsed.front())(**store, *args);
  });

  AddAction(*actions, label->add_subcommand("list", "Classes with item counts"),
            [](store::Store& store, const LabelArgs&) { return List(store); });

  CLI::App* set = label->add_subcommand("set", "Label items: set ITEM… LABEL");
  set->add_option("items", args->items, "ITEM… then the class name")->required()->expected(2, -1);
  set->add_flag("--create-class,--create-classes", args->create_class,
                "Create the class when no class has this name (else: an error, to catch typos)");
  AddAction(*actions, set, [](store::Store& store, const LabelArgs& a) {
    std::vector<std::string> items(a.items.begin(), a.items.end() - 1);
    const std::string label = ClassName(a.items.back());
    if (label.empty()) return Fail("set", InvalidArgument("the class name is empty"));
    if (Status s = CheckClass(store.catalog(), label, a.create_class, "--create-class"); !s.ok()) {
      return Fail("set", s);
    }
    auto blobs = ResolveItems(store.catalog(), items);
    if (!blobs.ok()) return Fail("set", blobs.status());
    const Status status = store.catalog().SetLabel(*blobs, label);
    if (!status.ok()) return Fail("set", status);
    std::cout << blobs->size() << (blobs->size() == 1 ? " item" : " items") << " labelled '"
              << label << "'\n";
    return kExitOk;
  });

  CLI::App* rename = label->add_subcommand("rename", "Rename a class (its index stays)");
  rename->add_option("old", args->first, "The class to rename (it must exist)")->required();
  rename->add_option("new", args->second, "Its new name (no class may have it yet)")->required();
  AddAction(*actions, rename, [](store::Store& store, const LabelArgs& a) {
    const std::string from = ClassName(a.first), to = ClassName(a.second);
    const Status status = store.catalog().RenameLabel(from, to);
    if (!status.ok()) return Fail("rename", status);
    std::cout << "renamed '" << from << "' to '" << to << "'\n";
    return kExitOk;
  });

  CLI::App* merge = label->add_subcommand("merge", "Move every item of class A into class B");
  merge->add_option("from", args->first, "The class whose items move (it is retired)")->required();
  merge->add_option("into", args->second, "The class that receives them")->required();
  merge->add_flag("--create-class,--create-classes", args->create_class,
                  "Create INTO when no class has this name (`label rename` does the same)");
  AddAction(*actions, merge, [](store::Store& store, const LabelArgs& a) {
    const std::string from = ClassName(a.first), into = ClassName(a.second);
    if (Status s = CheckClass(store.catalog(), into, a.create_class, "--create-class"); !s.ok()) {
      return Fail("merge", s);
    }
    const Status status = store.catalog().MergeLabels(from, into);
    if (!status.ok()) return Fail("merge", status);
    std::cout << "merged '" << from << "' into '" << into << "'\n";
    return kExitOk;
  });

  for (const bool drop : {true, false}) {
    CLI::App* sub = label->add_subcommand(
        drop ? "drop" : "undrop",
        drop ? "Exclude items from datasets (they stay in the store)" : "Undo a drop");
    sub->add_option("items", args->items, "Items: blob hashes or unique prefixes of them")
        ->required();
    AddAction(*actions, sub, [drop](store::Store& store, const LabelArgs& a) {
      auto blobs = ResolveItems(store.catalog(), a.items);
      if (!blobs.ok()) return Fail(drop ? "drop" : "undrop", blobs.status());
      const Status status = store.catalog().SetDropped(*blobs, drop);
      if (!status.ok()) return Fail(drop ? "drop" : "undrop", status);
      std::cout << blobs->size() << (blobs->size() == 1 ? " item " : " items ")
                << (drop ? "dropped" : "restored") << "\n";
      return kExitOk;
    });
  }

  CLI::App* exporter = label->add_subcommand("export", "Write hash,label,url,dropped CSV");
  exporter->add_option("file", args->first, "The CSV file to write (replaced whole)")->required();
  AddAction(*actions, exporter, [](store::Store& store, const LabelArgs& a) {
    auto rows = store::ExportLabelCsv(store.catalog(), a.first);
    if (!rows.ok()) return Fail("export", rows.status());
    std::cout << "wrote " << *rows << " items to " << a.first << "\n";
    return kExitOk;
  });

  CLI::App* importer =
      label->add_subcommand("import",
                            "Apply a CSV (hash,label,url[,dropped], or review's suspects.csv); all "
                            "or nothing");
  importer
      ->add_option("file", args->first,
                   "The CSV file to apply (as `label export` or `memes review` writes it)")
      ->required()
      ->check(CLI::ExistingFile);
  importer->add_flag("--create-classes,--create-class", args->create_class,
                     "Create the classes the CSV names that do not exist (else: an error)");
  importer->add_flag("--dry-run", args->dry_run, "Print what would change; change nothing");
  importer->footer(
      "Only what the CSV says changes: without a dropped column (or with an empty cell) an\n"
      "item's dropped flag stays as it is. Cells are trimmed of spaces, CR and BOMs; an empty\n"
      "label makes the item unlabelled.\n"
      "A review suspects.csv (header hash,label,suggested,score,url,action) applies its action\n"
      "column: empty or keep changes nothing, drop drops the item, relabel sets the label cell\n"
      "when you edited it, else the suggested class. An edited label needs relabel.");
  AddAction(*actions, importer, [](store::Store& store, const LabelArgs& a) {
    store::ImportOptions options;
    options.create_classes = a.create_class;
    options.dry_run = a.dry_run;
    auto report = store::ImportLabelCsv(store.catalog(), a.first, options);
    if (!report.ok()) {
      std::cerr << "memes label import: " << report.status().ToString()
                << "\nnothing was changed\n";
      return kExitUsage;
    }
    if (a.dry_run) {
      for (const std::string& line : report->diff) std::cout << line << "\n";
    }
    std::cout << (a.dry_run ? "dry run: read " : "read ") << report->rows
              << (report->rows == 1 ? " row" : " rows") << ": " << report->relabelled
              << " relabelled, " << report->unchanged << " unchanged, " << report->dropped
              << " dropped, " << report->undropped << " undropped, " << report->new_classes.size()
              << " new " << (report->new_classes.size() == 1 ? "class" : "classes");
    for (size_t i = 0; i < report->new_classes.size(); ++i) {
      std::cout << (i ? ", " : " (") << report->new_classes[i];
    }
    std::cout << (report->new_classes.empty() ? "" : ")") << "\n";
    if (a.dry_run) std::cout << "nothing was changed (dry run)\n";
    return kExitOk;
  });

  CLI::App* grouper = label->add_subcommand(
      "group", "Merge near-duplicate groups from a CSV of url,group or hash,group rows");
  grouper->add_option("file", args->first, "The CSV file of url,group or hash,group rows")
      ->required()
      ->check(CLI::ExistingFile);
  grouper->footer(
      "Every item named with one group key ends up in one near-duplicate group, so pack's\n"
      "split keeps them on one side (e.g. one emoji drawn by two vendors). The header line\n"
      "(url,group or hash,group) is optional. A malformed row changes nothing; rows naming\n"
      "no catalogued item are listed and skipped, the rest is applied in one transaction\n"
      "and logged (`label log`, action \"group KEY\").");
  AddAction(*actions, grouper, [](store::Store& store, const LabelArgs& a) {
    auto report = store::ApplyGroupCsv(store.catalog(), a.first);
    if (!report.ok()) {
      std::cerr << "memes label group: " << report.status().ToString() << "\nnothing was changed\n";
      return kExitUsage;
    }
    for (const std::string& line : report->unknown) std::cerr << line << "\n";
    std::cout << "read " << report->rows << " rows: " << report->groups << " groups, "
              << report->moved
              << " group changes (an item in chained merges counts once per move), "
              << report->unknown.size() << " rows naming no item (skipped)\n";
    return kExitOk;
  });

  AddAction(*actions, label->add_subcommand("log", "The label-change log"),
            [](store::Store& store, const LabelArgs&) {
              auto log = store.catalog().LabelLog();
              if (!log.ok()) return Fail("log", log.status());
              std::cout << "time\tblob\told\tnew\taction\n";
              for (const std::string& row : *log) std::cout << row << "\n";
              return kExitOk;
            });
}

}  // namespace memes::pipelines
