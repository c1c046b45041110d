// Symmetric matrices in Double, row-major d×d: the eigen-decomposition the Fréchet distance needs,
// the square root built on it, and an iteration that needs neither, as the tests' reference.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A = V·diag(values)·Vᵀ for a symmetric A: eigenvalues in ascending order, eigenvectors as the
/// columns of the row-major `vectors` (d×d, orthonormal).
struct SymmetricEigenDecomposition {
    let dimension: Int
    let values: [Double]
    let vectors: [Double]

    /// Cyclic Jacobi: sweep over every off-diagonal pair (p, q), rotating it to zero, until the
    /// off-diagonal part is negligible against the whole. A rotation costs 8d multiply–adds (rows
    /// p and q of A and of Vᵀ) and 2d copies, a sweep d(d−1)/2 rotations (≈ 4d³), and random
    /// covariances take 7–12 sweeps: about 40·d³ operations, 0.03 s at d = 128 and 0.35 s at
    /// d = 256 (measured on one Zen 4 core).
    /// Only the symmetric part (A + Aᵀ)/2 is read.
    init(symmetric matrix: [Double], dimension d: Int) {
        precondition(matrix.count == d * d, "a \(d)×\(d) matrix needs \(d * d) elements, got \(matrix.count)")
        var a = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0..<d { a[i * d + j] = 0.5 * (matrix[i * d + j] + matrix[j * d + i]) }
        }
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        let total = a.reduce(0) { $0 + $1 * $1 }
        a.withUnsafeMutableBufferPointer { a in
            v.withUnsafeMutableBufferPointer { v in
                for _ in 0..<64 {
                    var offDiagonal: Double = 0
                    for p in 0..<d { for q in (p + 1)..<d { offDiagonal += 2 * a[p * d + q] * a[p * d + q] } }
                    // Rounding leaves the off-diagonal part near 1e-32 of the whole: 1e-30 is converged.
                    if offDiagonal <= 1e-30 * total || offDiagonal == 0 { break }
                    for p in 0..<d {
                        for q in (p + 1)..<d { rotate(a, v, d, p, q) }
                    }
                }
            }
        }
        let order = (0..<d).sorted { a[$0 * d + $0] < a[$1 * d + $1] }
        values = order.map { a[$0 * d + $0] }
        var sorted = [Double](repeating: 0, count: d * d)
        for (column, source) in order.enumerated() {
            for row in 0..<d { sorted[row * d + column] = v[source * d + row] }  // v holds Vᵀ
        }
        vectors = sorted
        dimension = d
    }

    /// V·diag(f(values))·Vᵀ.
    func mapped(_ f: (Double) -> Double) -> [Double] {
        let d = dimension, scaled = values.map(f)
        var result = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                var sum: Double = 0
                for m in 0..<d { sum += vectors[i * d + m] * scaled[m] * vectors[j * d + m] }
                result[i * d + j] = sum
                result[j * d + i] = sum
            }
        }
        return result
    }
}

/// One Jacobi rotation J in the (p, q) plane that zeroes a[p, q]: A ← JᵀAJ, Vᵀ ← JᵀVᵀ, with
/// J[p, p] = J[q, q] = c, J[p, q] = s, J[q, p] = −s (Golub & Van Loan, §8.5.2). Off the (p, q)
/// block, rows p and q of JᵀAJ are those of JᵀA and its columns p and q their mirror image, so the
/// rotation reads rows only; the eigenvectors are kept as the rows of Vᵀ for the same reason.
@inline(__always)
private func rotate(_ a: UnsafeMutableBufferPointer<Double>, _ vT: UnsafeMutableBufferPointer<Double>,
                    _ d: Int, _ p: Int, _ q: Int) {
    let apq = a[p * d + q]
    if apq == 0 { return }
    let app = a[p * d + p], aqq = a[q * d + q]
    let tau = (aqq - app) / (2 * apq)
    let t = (tau >= 0 ? 1 : -1) / (abs(tau) + (1 + tau * tau).squareRoot())
    let c = 1 / (1 + t * t).squareRoot(), s = t * c
    for k in 0..<d {
        let apk = a[p * d + k], aqk = a[q * d + k]
        a[p * d + k] = c * apk - s * aqk
        a[q * d + k] = s * apk + c * aqk
        let vpk = vT[p * d + k], vqk = vT[q * d + k]
        vT[p * d + k] = c * vpk - s * vqk
        vT[q * d + k] = s * vpk + c * vqk
    }
    for k in 0..<d {
        a[k * d + p] = a[p * d + k]
        a[k * d + q] = a[q * d + k]
    }
    a[p * d + p] = app - t * apq
    a[q * d + q] = aqq + t * apq
    a[p * d + q] = 0
    a[q * d + p] = 0
}

/// The symmetric positive semi-definite square root S (S·S = A) of a symmetric A, through its
/// eigen-decomposition. Eigenvalues below zero (rounding, or a rank-deficient covariance) count as
/// zero, so the result is finite; so do those below d·ε·max|λ| (ε = 2⁻⁵²), the decomposition's own
/// rounding, which carry no information: kept, a zero eigenvalue computed as 10⁻¹⁶·λ_max would
/// put 10⁻⁸·√λ_max into the root.
func symmetricSquareRoot(_ matrix: [Double], dimension: Int) -> [Double] {
    let eigen = SymmetricEigenDecomposition(symmetric: matrix, dimension: dimension)
    let cutoff = Double(dimension) * Double.ulpOfOne * (eigen.values.map(abs).max() ?? 0)
    return eigen.mapped { $0 > cutoff ? $0.squareRoot() : 0 }
}

/// The reference square root of a symmetric positive-definite A: the coupled Newton–Schulz iteration
/// Y₀ = A/‖A‖_F, Z₀ = I, T = (3I − Z·Y)/2, Y ← Y·T, Z ← T·Z, so Y → (A/‖A‖_F)^½ (Higham 2008, §6.7),
/// then S = √‖A‖_F · Y. Products only, no eigenvectors; it converges when every eigenvalue of
/// A/‖A‖_F lies in (0, 1], slowly when the smallest is tiny, so it suits well-conditioned matrices.
func newtonSchulzSquareRoot(_ matrix: [Double], dimension d: Int, iterations: Int = 200) -> [Double] {
    let norm = matrix.reduce(0) { $0 + $1 * $1 }.squareRoot()
    if norm == 0 { return matrix }
    var y = matrix.map { $0 / norm }
    var z = [Double](repeating: 0, count: d * d)
    for i in 0..<d { z[i * d + i] = 1 }
    for _ in 0..<iterations {
        var t = product(z, y, d).map { -0.5 * $0 }
        for i in 0..<d { t[i * d + i] += 1.5 }
        let next = product(y, t, d)
        z = product(t, z, d)
        let change = zip(next, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        y = next
        if change <= 1e-30 { break }
    }
    return y.map { $0 * norm.squareRoot() }
}

/// A·B for row-major d×d matrices.
func product(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
    var c = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for m in 0..<d {
            let aim = a[i * d + m]
            for j in 0..<d { c[i * d + j] += aim * b[m * d + j] }
        }
    }
    return c
}
