/* Ask a model about an image and watch the answer being denoised, step by step, through the C API.
 *   ask_image MODEL_DIR IMAGE "QUESTION"
 * Build against an installed dimple: cc ask_image.c $(pkg-config --cflags --libs dimple) */
#include <dimple.h>
#include <stdio.h>
#include <stdlib.h>

/* The step callback: print the canvas, a '_' for each position still masked. */
static int show_step(const dimple_step* step, void* user_data) {
    const dimple_model* model = user_data;
    char text[4096];
    size_t length = 0;
    dimple_token shown[1024];
    size_t n = 0;
    for (size_t i = 0; i < step->answer_len && n < 1024; ++i)
        if (step->committed[i]) shown[n++] = step->answer[i];
    if (dimple_detokenize(model, shown, n, 1, text, sizeof text, &length) != DIMPLE_OK) return 1;
    printf("[step %2d, %3lld masks left] %s\n", step->step, (long long)step->masks_left, text);
    return 0; /* nonzero would cancel */
}

static int fail(const char* what) {
    fprintf(stderr, "%s: %s\n", what, dimple_last_error());
    return 1;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL_DIR IMAGE \"QUESTION\"\n", argv[0]);
        return 2;
    }
    dimple_model* model = NULL;
    if (dimple_model_load(argv[1], NULL, &model) != DIMPLE_OK) return fail("loading the model");

    dimple_image image = {.path = argv[2]};
    dimple_message question = {.role = "user", .text = argv[3], .images = &image, .n_images = 1};
    dimple_decoding_options options;
    dimple_decoding_options_init(&options);
    options.temperature = 0; /* greedy: the same answer every time */

    dimple_request* request = NULL;
    int status = 1;
    if (dimple_request_create(model, &question, 1, &options, &request) != DIMPLE_OK) {
        fail("preparing the request");
    } else if (dimple_request_run(request, show_step, model) != DIMPLE_OK) {
        fail("decoding");
    } else {
        dimple_result result;
        dimple_result_init(&result);
        dimple_request_get_result(request, &result);
        printf("%s\n[%d steps, %lld tokens, %.1f ms]\n", result.text, result.steps,
               (long long)result.answer_tokens, 1e3 * result.decode_seconds);
        status = 0;
    }
    dimple_request_free(request);
    dimple_model_free(model);
    return status;
}
