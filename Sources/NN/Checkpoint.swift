import Foundation
import Kernels

/// All parameters, buffers and optimizer state of one or more models, saved as safetensors with
/// PyTorch's `state_dict` names and layouts ("0.weight", "1.running_mean"), so that
/// `model.load_state_dict(safetensors.torch.load_file(path), strict=False)` loads the weights
/// into the matching `nn.Sequential`. Optimizer state is stored as
/// "<prefix>.<parameter name>.<state name>" plus "<prefix>.step".
public struct Checkpoint {
    public var entries: [(name: String, parameter: Parameter)]
    public var optimizers: [(prefix: String, optimizer: OptimizerState)]

    public init(entries: [(name: String, parameter: Parameter)], optimizers: [(prefix: String, optimizer: OptimizerState)] = []) {
        self.entries = entries
        self.optimizers = optimizers
    }

    /// One model (names as PyTorch's `nn.Sequential`) and optionally its optimizer ("optimizer.…").
    public init(model: Sequential, optimizer: OptimizerState? = nil) {
        self.init(entries: model.namedTensors, optimizers: optimizer.map { [("optimizer", $0)] } ?? [])
    }

    /// Every tensor of the checkpoint, in order, read from the live objects.
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        var result = entries.map { ($0.name, $0.parameter.value) }
        for (prefix, optimizer) in optimizers {
            for (index, name) in parameterNames(optimizer).enumerated() {
                for state in optimizer.stateNames { result.append(("\(prefix).\(name).\(state)", optimizer.state(state, of: index))) }
            }
            result.append(("\(prefix).step", Tensor(Float(optimizer.step))))
        }
        return result
    }

    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors(tensors: namedTensors(), metadata: metadata).write(to: url)
    }

    /// Loads every tensor; nothing changes unless the file matches completely.
    public func load(from url: URL) throws {
        try load(SafeTensors(contentsOf: url))
    }

    public func load(_ file: SafeTensors) throws {
        let expected = namedTensors()
        var found: [String: Tensor] = [:]
        for (name, tensor) in file.tensors { found[name] = tensor }
        for (name, tensor) in expected {
            guard let stored = found[name] else {
                throw SafeTensorsError("checkpoint does not match the model: tensor \"\(name)\" \(tensor.shape) is missing from the file")
            }
            guard stored.shape == tensor.shape else {
                throw SafeTensorsError("checkpoint does not match the model: tensor \"\(name)\" has shape \(stored.shape) in the file, \(tensor.shape) in the model")
            }
        }
        let known = Set(expected.map(\.name))
        if let extra = file.tensors.first(where: { !known.contains($0.name) }) {
            throw SafeTensorsError("checkpoint does not match the model: the file has tensor \"\(extra.name)\" \(extra.tensor.shape), which the model lacks")
        }
        for (name, parameter) in entries { parameter.value = found[name]! }
        for (prefix, optimizer) in optimizers {
            for (index, name) in parameterNames(optimizer).enumerated() {
                for state in optimizer.stateNames { optimizer.restore(state, of: index, to: found["\(prefix).\(name).\(state)"]!) }
            }
            optimizer.restoreStep(Int(found["\(prefix).step"]!.scalar))
        }
    }

    /// The checkpoint name of each of the optimizer's parameters.
    private func parameterNames(_ optimizer: OptimizerState) -> [String] {
        var names: [ObjectIdentifier: String] = [:]
        for (name, parameter) in entries { names[ObjectIdentifier(parameter)] = name }
        return optimizer.parameters.enumerated().map { names[ObjectIdentifier($1)] ?? "parameter\($0)" }
    }
}
