#!/usr/bin/python3
"""The shipped model reads the image: through the engine, at the default decoding options (which
the demo uses), it counts the shapes of the three example images right (examples/README.md has
their answers), and the counts differ from image to image.
  test_shipped_model.py PATH_TO_DIMPLE"""
import json
import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "dimple")
COUNTS = {"shapes-1.png": "three", "shapes-2.jpg": "two", "shapes-3.png": "four"}


def answer(image, question):
    out = subprocess.run([CLI, "run", "--model", os.path.join(ROOT, "models", "dimple-shapes"), "--image",
                          os.path.join(ROOT, "examples", image), "--prompt", question, "--json", "--threads", "1"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["text"].strip()


class ShippedModel(unittest.TestCase):
    def test_counts_the_example_images(self):
        got = {image: answer(image, "How many shapes are there?") for image in COUNTS}
        self.assertEqual(got, COUNTS)


if __name__ == "__main__":
    unittest.main()
