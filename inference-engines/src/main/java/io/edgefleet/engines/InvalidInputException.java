package io.edgefleet.engines;

/**
 * Inputs that do not match the model's signature: a missing or extra input, a wrong element
 * type, a wrong shape. Raised before the native call. Final. Example:
 * {@code model 'kws' input 'input_1': expected shape [1,1960], got [1,1959]}.
 */
public final class InvalidInputException extends EngineException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(String message) {
        super(message, null);
    }

    @Override
    public boolean retriable() {
        return false;
    }
}
