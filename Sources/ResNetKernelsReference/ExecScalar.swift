import Foundation

/// The element types the reference kernels run in: float32 for inference, and
/// float64 to measure how far float32's own rounding carries a model's outputs
/// (`parity --tolerance auto`). Every reference kernel is generic over it,
/// @inlinable, and pre-specialised for Float and Double (`@_specialize`): the
/// planner's closures are generic, and an unspecialised kernel would run every
/// multiply-add through value witnesses (measured: ~25x slower).
public protocol ExecScalar: BinaryFloatingPoint, Sendable {
    static func expOf(_ x: Self) -> Self
    static func tanhOf(_ x: Self) -> Self
    static func powOf(_ x: Self, _ y: Self) -> Self
}

extension Float: ExecScalar {
    @inlinable public static func expOf(_ x: Float) -> Float { expf(x) }
    @inlinable public static func tanhOf(_ x: Float) -> Float { tanhf(x) }
    @inlinable public static func powOf(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

extension Double: ExecScalar {
    @inlinable public static func expOf(_ x: Double) -> Double { exp(x) }
    @inlinable public static func tanhOf(_ x: Double) -> Double { tanh(x) }
    @inlinable public static func powOf(_ x: Double, _ y: Double) -> Double { pow(x, y) }
}
