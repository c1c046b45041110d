import Autodiff
import Kernels
import NN
import XCTest

/// Compares `gradients(of: loss, at: parameters)` with central finite differences of `loss` on
/// every parameter element (Float, so steps of 1e-2 and relative tolerances of a few percent).
func checkParameterGradients(_ parameters: [Parameter], step: Float = 1e-2, tolerance: Float = 2e-2,
                             file: StaticString = #filePath, line: UInt = #line, _ loss: () -> Variable) {
    let analytic = gradients(of: loss(), at: parameters.map(\.variable))
    for (index, parameter) in parameters.enumerated() {
        for element in 0..<parameter.value.count {
            let saved = parameter.value[element]
            parameter.value[element] = saved + step
            let plus = Double(loss().value.scalar)  // recorded: a penalty needs the graph
            parameter.value[element] = saved - step
            let minus = Double(loss().value.scalar)
            parameter.value[element] = saved
            let numeric = Float((plus - minus) / Double(2 * step))
            XCTAssertEqual(analytic[index][element], numeric, accuracy: tolerance * max(1, abs(numeric)),
                           "\(parameter.name) element \(element)", file: file, line: line)
        }
    }
}
