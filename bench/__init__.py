"""The benchmark suite (bench/run): not part of the application or of the tests."""
