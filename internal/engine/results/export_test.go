package results

// YieldPiece exposes yieldPiece to the package's external tests.
const YieldPiece = yieldPiece
