/* dimple.h: the C API of dimple.cpp, an engine for discrete-diffusion (multimodal) language models.
 *
 * A flat C11 interface over the engine the `dimple` command and server use: load a model folder,
 * tokenize, build a request (chat messages with images), decode it step by step or to the end,
 * alone or together with other requests in one forward pass per step, and read the answer.
 *
 * Conventions
 * - Every call that can fail returns a dimple_status; on failure dimple_last_error() holds the
 *   engine's message (per thread, valid until the thread's next failing call). No C++ exception
 *   crosses this interface.
 * - Structs the caller fills have a `size` field, set by their *_init function: a library built
 *   with a later, larger version of a struct still reads an older caller's correctly.
 * - Strings are UTF-8 and NUL-terminated; ids are dimple_token.
 * - Variable-length results go into caller buffers: pass the capacity, get the needed count back;
 *   a buffer too small gives DIMPLE_ERROR_BUFFER_TOO_SMALL with the count set (call again).
 * - Pointers in results (dimple_result, dimple_step, dimple_model_info) stay valid until the
 *   object they came from is stepped again or freed.
 *
 * Thread safety
 * - dimple_model: once loaded, every call taking a `const dimple_model*` may run from any number
 *   of threads at once. Calls that run the model (dimple_request_create with images, the step and
 *   run calls, dimple_forward) are serialised per model by the library: threads may share a model
 *   and its requests run one forward pass at a time.
 * - dimple_request: one thread at a time per request.
 * - dimple_set_threads changes a process-wide setting (the OpenMP pool): call it before decoding.
 */
#ifndef DIMPLE_H
#define DIMPLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a call or a struct changes incompatibly; structs that only grow keep it. */
#define DIMPLE_API_VERSION 1

#if defined(__GNUC__)
#define DIMPLE_API __attribute__((visibility("default")))
#else
#define DIMPLE_API
#endif

typedef int32_t dimple_token;

typedef enum dimple_status {
    DIMPLE_OK = 0,
    /* A misuse of the API: a NULL pointer, a struct not initialised by its *_init (or larger than
     * this library knows), a batch holding a request twice or requests of different models. */
    DIMPLE_ERROR_INVALID_ARGUMENT = 1,
    DIMPLE_ERROR_BUFFER_TOO_SMALL = 2, /* the count needed is returned: call again with room */
    /* The engine refused an input: a model folder, an option value, a prompt, an image, a limit.
     * The message names it (in the command line's terms where they are the same options). */
    DIMPLE_ERROR_REFUSED = 3,
    DIMPLE_ERROR_CANCELLED = 4,        /* a step callback asked to stop */
    DIMPLE_ERROR_OUT_OF_MEMORY = 5,
    DIMPLE_ERROR_INTERNAL = 6
} dimple_status;

DIMPLE_API int dimple_api_version(void);           /* DIMPLE_API_VERSION the library was built with */
DIMPLE_API const char* dimple_version(void);       /* e.g. "0.1.0" */
DIMPLE_API const char* dimple_status_name(dimple_status s); /* a phrase: "refused", "buffer too small"... */
DIMPLE_API const char* dimple_last_error(void);    /* "" when this thread has had no failure */
DIMPLE_API void dimple_set_threads(int threads);   /* 0: every core; process-wide */

/* ---- models ---------------------------------------------------------------------------------- */

typedef struct dimple_model dimple_model;

typedef struct dimple_model_options {
    size_t size;
    const char* compute;        /* "auto" (default), "f32", "bf16" or "int8" */
    uint64_t memory_limit;      /* bytes the model may use; 0: what the machine has available */
    const char* chat_template;  /* a family name to force; NULL: detected from the folder */
    /* The largest request it will run (sizes the working memory; larger requests are refused). */
    int64_t max_prompt_tokens;  /* default 4096 */
    int64_t max_answer_tokens;  /* default 64 */
    int64_t max_images;         /* default 1 */
} dimple_model_options;

DIMPLE_API void dimple_model_options_init(dimple_model_options* options);

/* Loads a model folder in the Hugging Face layout (config.json, *.safetensors, tokenizer files).
 * `options` may be NULL (the defaults). On success *model must be released with dimple_model_free. */
DIMPLE_API dimple_status dimple_model_load(const char* path, const dimple_model_options* options,
                                           dimple_model** model);
DIMPLE_API void dimple_model_free(dimple_model* model);

typedef struct dimple_model_info {
    size_t size;
    const char* family;       /* "dimple" or "dream" (config.json's architecture) */
    const char* compute;      /* what the weights were loaded as: "f32", "bf16" or "int8" */
    const char* compute_reason; /* why (what `auto` chose, with the figures) */
    int32_t vocab_size, hidden_size, num_layers;
    int64_t max_positions;    /* the longest prompt + answer */
    int32_t has_vision, has_tokenizer;
    /* Special ids, -1 where the model has none. */
    dimple_token pad_id, bos_id, eos_id, mask_id, image_id;
} dimple_model_info;

/* Fills *info (call dimple_model_info_init first: it sets `size`). Strings live as long as the model. */
DIMPLE_API void dimple_model_info_init(dimple_model_info* info);
DIMPLE_API dimple_status dimple_model_get_info(const dimple_model* model, dimple_model_info* info);

/* ---- text ------------------------------------------------------------------------------------ */

/* Token ids of `text` (no chat template, none added; the text of a special token, e.g.
 * "<|image_pad|>", becomes its id, as in `dimple tokenize`). */
DIMPLE_API dimple_status dimple_tokenize(const dimple_model* model, const char* text, dimple_token* ids,
                                         size_t capacity, size_t* count);
/* The text of `ids` (NUL-terminated; *length excludes the NUL, capacity includes it). With
 * skip_special, special tokens (end, pad, mask, image...) are left out. */
DIMPLE_API dimple_status dimple_detokenize(const dimple_model* model, const dimple_token* ids, size_t n_ids,
                                           int skip_special, char* text, size_t capacity, size_t* length);

/* A picture: a file (JPEG, PNG, GIF, BMP, WebP; the format from its bytes), or, when `path` is
 * NULL, 8-bit RGB pixels: rows top to bottom, 3 bytes per pixel, width*height*3 bytes. */
typedef struct dimple_image {
    const char* path;
    const uint8_t* rgb;
    int32_t width, height;
} dimple_image;

/* One chat turn. Its images come before its text, as the Qwen2.5-VL processor places them. */
typedef struct dimple_message {
    const char* role;  /* "system", "user" or "assistant" */
    const char* text;  /* NULL: no text */
    const dimple_image* images;
    size_t n_images;
} dimple_message;

/* The prompt text the chat template makes of `messages` (images as their placeholders), ending
 * with the opening of the assistant's turn. Buffer rules as dimple_detokenize. */
DIMPLE_API dimple_status dimple_apply_chat_template(const dimple_model* model, const dimple_message* messages,
                                                    size_t n_messages, char* text, size_t capacity,
                                                    size_t* length);

/* ---- decoding options (those of `dimple run`; README, "dimple run") ------------------------------ */

typedef struct dimple_decoding_options {
    size_t size;
    /* Fields marked (*) default to the model family's published call: a negative value or NULL (what
     * dimple_decoding_options_init sets) leaves them to the model. Dimple: 64 tokens, 64 steps, dim,
     * threshold 0.95, temperature 0.2, top_p 0.95, top_k 50, cache on, no blocks. LLaDA: 128, 128,
     * llada, no threshold, greedy, no filters, no cache, blocks of 32 (LLaDA-V: one block). */
    int32_t max_new_tokens;     /* (*) answer length in tokens (masks); < 0: the model's */
    int32_t steps;              /* (*) diffusion steps at most; < 0: the model's */
    const char* alg;            /* "origin" | "origin-ratio" | "autoregressive" | "maskgit_plus" |
                                   "topk_margin" | "entropy"; "origin" */
    const char* pipeline;       /* (*) "dim" (Dimple) | "dream" | "llada"; NULL: the model's */
    float threshold;            /* (*) commit every token above it (0: off); < 0: the model's */
    float temperature;          /* (*) 0: greedy; < 0: the model's */
    float top_p;                /* (*) 1: off; < 0: the model's */
    int32_t top_k;              /* (*) 0: off; < 0: the model's */
    float alg_temp;             /* > 0: sample positions by softmax(confidence / alg_temp); 0 */
    float eps;                  /* final timestep of the schedule; 1e-3 */
    int32_t use_cache;          /* (*) prefilling: reuse the prompt's keys/values; < 0: the model's */
    int32_t original_confidence; /* dim: confidence from the unfiltered softmax; 1 */
    uint64_t seed;              /* 0 */
    /* Structure priors */
    const char* answer_template; /* e.g. "{\"name\": \"<mask:6>\"}"; NULL: none */
    int64_t length;             /* exact answer length (eos at this offset, then pad); -1: free */
    const char* fix_ids;        /* "OFFSET:ID,..." raw ids fixed in the answer; NULL: none */
    /* Faster decoding (approximations but early_stop "loop"; BENCHMARKS.md), all off by default */
    const char* early_stop;     /* "off" | "loop" | "rows" */
    int32_t block_length;       /* (*) semi-autoregressive blocks of this many tokens (0: off; llada:
                                   its blocks, 0 = one); < 0: the model's */
    int32_t dual_cache;         /* with blocks: cache the answer's keys/values outside the block */
    int32_t cache_refresh;      /* dual cache: also refresh every N steps; 0: per block */
    const char* skip_layers;    /* decoder layers the answer skips, e.g. "15-27/2"; NULL: none */
    int32_t skip_from;          /* first step that skips them; 1 */
    int32_t prune_layer;        /* visual-token pruning after this layer; -1: off */
    float prune_keep;           /* share of image tokens kept; 1 */
    const char* prune_when;     /* "prefill" | "late" | "progressive" */
    int32_t prune_step;         /* step of late / progressive pruning; 4 */
    /* appended last: a caller built before it passes a smaller `size`, which leaves it NULL */
    const char* dllm_cache;     /* llada: LLaDA-V's dLLM-Cache "PROMPT_INTERVAL,GEN_INTERVAL,TRANSFER_RATIO",
                                   e.g. "25,7,0.25" (needs use_cache 0); NULL: off */
    /* appended after dllm_cache, for the same reason */
    const char* remasking;      /* (*) llada: "low_confidence" | "random"; NULL: the model's */
    float cfg_scale;            /* (*) llada: classifier-free guidance scale (0: off); < 0: the model's */
    /* appended after cfg_scale, for the same reason */
    const char* speed;          /* "exact" | "fast" | "faster": the family's measured presets of the faster-
                                   decoding options, which those set above change; NULL: "exact" */
} dimple_decoding_options;

DIMPLE_API void dimple_decoding_options_init(dimple_decoding_options* options);

/* ---- requests ---------------------------------------------------------------------------------- */

typedef struct dimple_request dimple_request;

/* Builds a request: applies the chat template (a default system turn is added when the first
 * message is not one), tokenizes, encodes the images and checks every option. `options` may be
 * NULL (the defaults). The request keeps no pointer into `messages` or `options`. */
DIMPLE_API dimple_status dimple_request_create(dimple_model* model, const dimple_message* messages,
                                               size_t n_messages, const dimple_decoding_options* options,
                                               dimple_request** request);
/* The same from raw prompt ids (no template; image-pad ids need `images`, one per pad id, in order). */
DIMPLE_API dimple_status dimple_request_create_from_ids(dimple_model* model, const dimple_token* ids, size_t n_ids,
                                                        const dimple_image* images, size_t n_images,
                                                        const dimple_decoding_options* options,
                                                        dimple_request** request);
DIMPLE_API void dimple_request_free(dimple_request* request);

/* The canvas after a step. */
typedef struct dimple_step {
    size_t size;
    size_t request;                /* index of the request in a batch call (0 alone) */
    int32_t step;                  /* steps run so far (1 after the first) */
    const dimple_token* answer;    /* the answer so far: mask_id where still masked */
    const uint8_t* committed;      /* per answer position: 1 once it holds a token for good */
    size_t answer_len;             /* max_new_tokens */
    const int64_t* newly_committed; /* answer offsets this step committed */
    size_t n_newly_committed;
    int64_t masks_left;
    double elapsed_seconds;        /* since decoding began */
    int32_t finished;
} dimple_step;

/* Return nonzero to cancel: the call then returns DIMPLE_ERROR_CANCELLED and the request keeps
 * the answer so far (its result stays readable). */
typedef int (*dimple_step_callback)(const dimple_step* step, void* user_data);

DIMPLE_API void dimple_step_init(dimple_step* step);
/* Runs the request's next step (nothing when it has finished). A request whose step failed with
 * any status but DIMPLE_ERROR_CANCELLED cannot go on: free it. */
DIMPLE_API dimple_status dimple_request_step(dimple_request* request);
/* Runs it to the end, calling `callback` (may be NULL) after every step. */
DIMPLE_API dimple_status dimple_request_run(dimple_request* request, dimple_step_callback callback, void* user_data);
/* The canvas now (after the last step run). */
DIMPLE_API dimple_status dimple_request_get_step(const dimple_request* request, dimple_step* step);
DIMPLE_API int dimple_request_finished(const dimple_request* request);

/* Several requests of one model decoded together: each step runs one forward pass for all the
 * unfinished ones (continuous batching, the server's way); each answers as it would alone.
 * dimple_batch_step runs one step of each; dimple_batch_run runs them all to the end, calling
 * `callback` after each request's step with step->request its index. */
DIMPLE_API dimple_status dimple_batch_step(dimple_request* const* requests, size_t n_requests);
DIMPLE_API dimple_status dimple_batch_run(dimple_request* const* requests, size_t n_requests,
                                          dimple_step_callback callback, void* user_data);

typedef struct dimple_result {
    size_t size;
    const char* text;              /* the answer: tokens up to the first end token, specials skipped;
                                      unfinished, the tokens before the first mask */
    const dimple_token* answer;    /* every answer position's id (end and pad tokens included) */
    size_t answer_len;
    int64_t answer_tokens;         /* tokens before the first end token (unfinished: or mask) */
    int64_t prompt_tokens;         /* image tokens included */
    int32_t steps;                 /* steps run */
    int32_t finished;
    double prompt_seconds;         /* template, tokens and images to embeddings */
    double decode_seconds;         /* the steps, summed */
    const double* step_seconds;    /* each step's time: `steps` of them */
} dimple_result;

DIMPLE_API void dimple_result_init(dimple_result* result);
DIMPLE_API dimple_status dimple_request_get_result(const dimple_request* request, dimple_result* result);

/* ---- the model alone --------------------------------------------------------------------------- */

/* Logits [n_ids, vocab_size] (row-major float32) of one bidirectional pass over `ids` (text only).
 * `capacity` and *count are in floats. */
DIMPLE_API dimple_status dimple_forward(dimple_model* model, const dimple_token* ids, size_t n_ids, float* logits,
                                        size_t capacity, size_t* count);

#ifdef __cplusplus
}
#endif

#endif /* DIMPLE_H */
