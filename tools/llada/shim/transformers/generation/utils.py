class GenerateOutput:  # name only
    pass
