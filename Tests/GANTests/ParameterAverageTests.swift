import GAN
import Kernels
import NN
import XCTest

final class ParameterAverageTests: XCTestCase {
    func testAverageFollowsTheDecayAndRestoresTheTrainedValues() {
        let parameter = Parameter(name: "weight", value: Tensor(shape: [2], scalars: [0, 10]))
        let average = ParameterAverage(parameters: [parameter], decay: 0.75)
        parameter.value = Tensor(shape: [2], scalars: [4, 2])
        average.update()  // 0.75·(0, 10) + 0.25·(4, 2)
        parameter.value = Tensor(shape: [2], scalars: [8, 2])
        average.update()  // 0.75·(1, 8) + 0.25·(8, 2)
        let seen = average.withAveragedParameters { parameter.value.scalars }
        XCTAssertEqual(seen, [2.75, 6.5])
        XCTAssertEqual(parameter.value.scalars, [8, 2], "the trained values come back after the block")
    }
}
