import Foundation
import Kernels
import NN
import GAN
import Data
func run() {
let args = CommandLine.arguments
let lr = Float(args[1])!, steps = Int(args[2])!
var random = RandomSource(seed: UInt64(args[6])!)
let g = try! Architecture(parsing: "100 -> 256 relu -> 256 relu -> 256 relu -> 2 tanh").build(using: &random)
let d = try! Architecture(parsing: "2 -> 256 leaky -> 256 leaky -> 256 leaky -> 1").build(using: &random)
var s = TrainingSettings(); s.labelNoise = Float(args[3])!
let lr2 = Float(args[4])!, switchAt = Int(args[5])!
var seedArg = UInt64(args[6])!
let t = GANTrainer(generator: g, discriminator: d, latentSize: 100,
  generatorOptimizer: Adam(parameters: g.parameters, learningRate: lr, beta1: 0.5),
  discriminatorOptimizer: Adam(parameters: d.parameters, learningRate: lr, beta1: 0.5), settings: s)
let data = ToyDistribution.gaussian(meanX: 0, meanY: 0, std: 0.5)
var m = StepMetrics()
let start = Date()
for step in 1...steps {
  if step == switchAt { t.generatorOptimizer.learningRate = lr2; t.discriminatorOptimizer.learningRate = lr2 }
  let real = data.sample(count: 64, using: &random); t.discriminatorStep(real: real, into: &m, using: &random)
  t.generatorStep(batchSize: 64, into: &m, using: &random)
  if step % 1000 == 0 || step == steps {
    let st = columnStatistics(t.generate(count: 1000, using: &random))
    print(step, m.discriminatorLoss, m.generatorLoss, m.realScore, m.fakeScore, st.means.map{String(format:"%.3f",$0)}, st.stds.map{String(format:"%.3f",$0)})
  }
}
print("ms/step", Date().timeIntervalSince(start) * 1000 / Double(steps))

}
run()
