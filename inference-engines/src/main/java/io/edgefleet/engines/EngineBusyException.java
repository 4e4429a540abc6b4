package io.edgefleet.engines;

/** Every session of a model was busy for longer than the acquire timeout. Retriable. */
public final class EngineBusyException extends EngineException {
    private static final long serialVersionUID = 1L;

    public EngineBusyException(String message) {
        super(message, null);
    }

    @Override
    public boolean retriable() {
        return true;
    }
}
