"""Qt-free reading of artifact files for previews: kinds, text windows, tables, MLmodel, images."""
