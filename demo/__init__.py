"""Demo data, the national-scale seed and the benchmarks: code the product's apps never import.
`openbook seed`, `openbook demo` and `openbook bench` live here."""
