"""Model compression: Keras-level techniques (structured and magnitude pruning, weight
clustering, low-rank factorization, knowledge distillation) that produce a Keras model the
importer compiles, and data-free IR steps on the quantized graph (4-bit weight encodings)."""
