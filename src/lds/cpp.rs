//! The C preprocessor (assembler-with-cpp mode). See `super`.
