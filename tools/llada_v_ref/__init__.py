"""Our PyTorch LLaDA-V (model.py, preprocess.py), written from the spec and checked against the
original code's outputs (check_goldens.py); tools/train trains it at toy width."""
