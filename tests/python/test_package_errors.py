"""The `dimple` package itself and its failures: where it was imported from (the DIMPLE_TEST_INSTALLED
check), the library's version and how it is found, the model's info, and the errors a bad model,
option, image or argument raises. See helpers.py for how to run it.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from helpers import INSTALLED, MODEL, REPO, SHAPES1, dimple, open_test_model


def setUpModule():
    global model
    model = open_test_model()


def tearDownModule():
    model.close()


class Package(unittest.TestCase):
    def test_imported_from_the_expected_place(self):
        source = os.path.join(REPO, "python", "dimple")
        here = os.path.dirname(os.path.abspath(dimple.__file__))
        if INSTALLED:
            self.assertNotEqual(os.path.realpath(here), os.path.realpath(source), "imported the source tree")
            self.assertIn("site-packages", here)
        else:
            self.assertEqual(os.path.realpath(here), os.path.realpath(source))
        self.assertEqual(dimple.__version__, "0.1.0")

    def test_library_version(self):
        self.assertEqual(dimple.api_version(), 1)
        if os.environ.get("DIMPLE_LIBRARY"):  # the package's lookup honours it
            self.assertEqual(dimple._capi.lib()._name, os.environ["DIMPLE_LIBRARY"])
            dimple.load_library(os.environ["DIMPLE_LIBRARY"])  # loading it again is harmless
        self.assertRegex(dimple.version(), r"^\d+\.\d+\.\d+")

    def test_info_matches_the_config(self):
        with open(os.path.join(MODEL, "config.json")) as f:
            config = json.load(f)
        info = model.info
        self.assertEqual(info.family, "dimple")
        self.assertIn(info.compute, ("f32", "bf16", "int8"))
        self.assertTrue(info.compute_reason)
        self.assertTrue(info.has_vision)
        self.assertTrue(info.has_tokenizer)
        self.assertEqual(info.vocab_size, config["vocab_size"])
        self.assertEqual(info.hidden_size, config["hidden_size"])
        self.assertEqual(info.num_layers, config["num_hidden_layers"])
        self.assertEqual(info.eos_id, config["eos_token_id"])
        self.assertEqual(info.pad_id, config["pad_token_id"])
        self.assertEqual(info.bos_id, config["bos_token_id"])
        self.assertEqual(info.mask_id, config["mask_token_id"])
        self.assertEqual(info.image_id, config["image_token_id"])
        self.assertGreater(info.max_positions, 0)


class Errors(unittest.TestCase):
    def test_missing_folder(self):
        missing = os.path.join(tempfile.gettempdir(), "no-such-dimple-model")
        with self.assertRaises(dimple.Error) as e:
            dimple.Model(missing, threads=None)
        self.assertIn(missing, e.exception.message)
        self.assertIn("not a model folder", e.exception.message)
        self.assertEqual(e.exception.function, "dimple_model_load")
        self.assertEqual(e.exception.status, 3)  # DIMPLE_ERROR_REFUSED
        self.assertEqual(e.exception.status_name, "refused")
        self.assertIn(e.exception.message, str(e.exception))

    def test_bad_option_values(self):
        for options, words in [({"alg": "nope"}, "nope"), ({"steps": 0}, "steps"), ({"early_stop": "bogus"}, "bogus"),
                               ({"fix_ids": "3"}, "OFFSET:ID"), ({"max_new_tokens": 4, "fix_ids": "9:1"}, "outside"),
                               ({"pipeline": "nope"}, "nope")]:
            with self.subTest(options=options):
                with self.assertRaises(dimple.Error) as e:
                    model.generate("How many shapes are there?", images=[SHAPES1], **options)
                self.assertIn(words, e.exception.message)
                self.assertTrue(e.exception.status_name)
        with self.assertRaises(dimple.Error) as e:
            model.stream("How many shapes are there?", images=[SHAPES1], alg="nope")
        self.assertIn("nope", str(e.exception))

    def test_bad_images(self):
        missing = os.path.join(tempfile.gettempdir(), "no-such-image.png")
        with self.assertRaises(dimple.Error) as e:
            model.generate("How many shapes are there?", images=[missing])
        self.assertIn(missing, e.exception.message)
        for image, error in [(np.zeros((10, 10), np.uint8), ValueError), (np.zeros((10, 10, 3), np.float32), TypeError),
                             (np.zeros((10, 10, 4), np.uint8), ValueError), (12, TypeError)]:
            with self.assertRaises(error):
                model.generate("How many shapes are there?", images=[image])

    def test_python_side_checks(self):
        with self.assertRaises(TypeError) as e:
            model.generate("How many shapes are there?", images=[SHAPES1], temprature=0)
        self.assertIn("temprature", str(e.exception))
        with self.assertRaises(TypeError):
            model.generate("How many shapes are there?", images=[SHAPES1], steps="5")
        with self.assertRaises(dimple.InvalidArgumentError):
            model.generate("How many shapes are there?", images=[SHAPES1], max_new_tokens=2**40)
        with self.assertRaises(ValueError):
            model.generate("How many shapes are there?", images=[SHAPES1], seed=-1)
        with self.assertRaises(TypeError):
            model.generate([{"role": "user", "content": "hi", "image": SHAPES1}])
        with self.assertRaises(TypeError):
            model.generate([{"role": "user", "content": "hi"}], images=[SHAPES1])
        with self.assertRaises(dimple.InvalidArgumentError):
            dimple.Model(MODEL, memory_limit="12X", threads=None)

    def test_memory_limit_forms(self):
        for limit in ("1G", "512M", "1.5GiB", 2**30):
            with dimple.Model(MODEL, memory_limit=limit, threads=None) as m:
                self.assertEqual(m.tokenize("three"), model.tokenize("three"))
        with self.assertRaises(dimple.Error):
            dimple.Model(MODEL, memory_limit="1K", threads=None)  # too little: refused by the engine

    def test_a_request_over_the_model_limits_is_refused(self):
        with dimple.Model(MODEL, threads=None, max_answer_tokens=16) as m:
            with self.assertRaises(dimple.Error):
                m.generate("How many shapes are there?", images=[SHAPES1], max_new_tokens=64)

    def test_library_found_by_pkg_config_and_by_the_loader(self):
        lib = os.path.realpath(dimple._capi.lib()._name)
        code = "import dimple\nprint(dimple._capi.lib()._name, dimple.api_version())\n"
        with tempfile.TemporaryDirectory() as prefix:
            os.makedirs(os.path.join(prefix, "lib", "pkgconfig"))
            os.symlink(lib, os.path.join(prefix, "lib", "libdimple.so.0"))
            with open(os.path.join(prefix, "lib", "pkgconfig", "dimple.pc"), "w") as f:
                f.write("prefix=${pcfiledir}/../..\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\n"
                        "Name: dimple\nDescription: test\nVersion: 0.1.0\nLibs: -L${libdir} -ldimple\n")
            env = {k: v for k, v in os.environ.items() if k not in ("DIMPLE_LIBRARY", "LD_LIBRARY_PATH")}
            if not INSTALLED:
                env["PYTHONPATH"] = os.path.join(REPO, "python")
            env["PKG_CONFIG_PATH"] = os.path.join(prefix, "lib", "pkgconfig")
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            name, version = out.stdout.split()
            self.assertEqual(os.path.realpath(name), lib)
            self.assertTrue(name.startswith(prefix), name)  # the .pc's libdir
            self.assertEqual(version, "1")
            env.pop("PKG_CONFIG_PATH")
            env["PATH"] = "/nonexistent"  # no pkg-config: the loader, through LD_LIBRARY_PATH
            env["LD_LIBRARY_PATH"] = os.path.join(prefix, "lib")
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout.split(), ["libdimple.so.0", "1"])

    def test_library_not_found_says_what_was_tried(self):
        env = dict(os.environ, DIMPLE_LIBRARY="/nonexistent/libdimple.so")
        if not INSTALLED:
            env["PYTHONPATH"] = os.path.join(REPO, "python")
        code = "import dimple\ntry:\n dimple.version()\nexcept dimple.LibraryError as e:\n print(e)\n"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        self.assertIn("/nonexistent/libdimple.so", out.stdout, out.stderr)
        env.pop("DIMPLE_LIBRARY")
        env["PATH"] = "/nonexistent"  # no pkg-config
        env["LD_LIBRARY_PATH"] = ""
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        self.assertIn("DIMPLE_LIBRARY", out.stdout, out.stderr)
        self.assertIn("pkg-config", out.stdout)
        self.assertIn("libdimple.so.0", out.stdout)


if __name__ == "__main__":
    unittest.main()
