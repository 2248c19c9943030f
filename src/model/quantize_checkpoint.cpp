#include "model/quantize_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "model/parameters.h"

namespace dimple {

namespace fs = std::filesystem;

namespace {

bool is_weight_file(const fs::path& p) {
    return p.extension() == ".safetensors" || p.filename() == "model.safetensors.index.json" ||
           p.filename() == kPackedWeightsFile;
}

}  // namespace

void quantize_checkpoint(const std::string& model_dir, const std::string& out_dir,
                         const std::function<void(const QuantizeProgress&)>& progress) {
    const ModelConfig cfg = load_model_config(model_dir);
    const Checkpoint ck(model_dir);
    check(fs::weakly_canonical(model_dir) != fs::weakly_canonical(out_dir),
          "dimple quantize: --out must differ from --model");
    check(!fs::exists(fs::path(out_dir) / "model.safetensors"), out_dir,
          ": already holds a model.safetensors (remove it first)");

    // What is written, in order: each expected parameter (linear weights as I8 + scales).
    struct Item {
        ParameterSpec spec;
        Tensor source;
    };
    std::vector<Item> items;
    std::vector<TensorLayout> layout;
    for (const ParameterSpec& p : expected_parameters(cfg)) {
        if (p.linear) {
            const Checkpoint::LinearWeight w = ck.linear_weight(p.name.substr(0, p.name.size() - 7), p.shape);
            check(w.weight.dtype() != DType::I8, model_dir, ": already quantized ('", p.name, "' is I8)");
            layout.push_back({p.name, DType::I8, p.shape});
            layout.push_back({p.name + "_scale", DType::F32, {p.shape[0]}});
            items.push_back({p, w.weight});
        } else {
            const Tensor t = ck.get(p.name, p.shape);
            layout.push_back({p.name, t.dtype(), p.shape});
            items.push_back({p, t});
        }
    }

    fs::create_directories(out_dir);
    for (const auto& entry : fs::directory_iterator(model_dir))
        if (entry.is_regular_file() && !is_weight_file(entry.path()))
            fs::copy_file(entry.path(), fs::path(out_dir) / entry.path().filename(),
                          fs::copy_options::overwrite_existing);

    // Written under a temporary name and renamed at the end, so that an interrupted run leaves no
    // folder that looks complete.
    const fs::path final_path = fs::path(out_dir) / "model.safetensors";
    const fs::path tmp_path = fs::path(out_dir) / "model.safetensors.partial";
    std::ofstream out(tmp_path, std::ios::binary);
    check(out.good(), tmp_path.string(), ": cannot write");
    out << safetensors_header(layout, {{"format", "pt"},
                                       {"dimple_quantization",
                                        "int8 linear weights, symmetric per output row; "
                                        "<name>.weight_scale = max|w|/127 (F32 [out])"}});
    int done = 0;
    for (const Item& it : items) {
        const Tensor& t = it.source;
        if (it.spec.linear) {
            const Checkpoint::LinearWeight w =
                ck.linear_weight_int8(it.spec.name.substr(0, it.spec.name.size() - 7), it.spec.shape);
            out.write(static_cast<const char*>(w.weight.raw()), std::streamsize(w.weight.nbytes()));
            out.write(static_cast<const char*>(w.scale.raw()), std::streamsize(w.scale.nbytes()));
        } else {
            out.write(static_cast<const char*>(t.raw()), std::streamsize(t.nbytes()));
        }
        check(out.good(), tmp_path.string(), ": write failed (disk full?)");
        ck.release(it.spec.name);
        if (progress) progress({++done, int(items.size()), it.spec.name});
    }
    out.close();
    check(out.good(), tmp_path.string(), ": write failed (disk full?)");
    fs::rename(tmp_path, final_path);
}

}  // namespace dimple
