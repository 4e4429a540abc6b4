package io.edgefleet.engines;

import java.util.Objects;

/**
 * Inputs the model cannot take: the client's mistake, never the model's. Raised before the
 * native call for anything the checks of {@link InputRules} catch (a missing or extra input, a
 * wrong element type or shape, an empty tensor, dimensions that disagree, a request over the
 * memory bound), and after it when the runtime refuses inputs that passed those checks
 * ({@link Rule#REFUSED_BY_RUNTIME}). Final: the same call never succeeds. Example:
 * {@code model 'kws' input 'input_1': expected shape [1,1960], got [1,1959]}.
 *
 * <p>The message is written for the client: it names model, input and rule, never the runtime's
 * own text. When the runtime refused, its words are in {@link #runtimeDetail()}, for the server log.
 */
public final class InvalidInputException extends EngineException {
    private static final long serialVersionUID = 1L;

    /** Which rule the inputs broke; stable names, usable as a metric label. */
    public enum Rule {
        /** a missing, unknown or duplicated input, or a requested output the model lacks */
        NAME,
        /** an element type other than the model's, or one the runtime cannot take */
        DATATYPE,
        /** a wrong rank, a fixed dimension of another size, a negative or over-large dimension, data that does not fill the shape */
        SHAPE,
        /** a zero-sized dimension the model does not declare: nothing to compute */
        EMPTY,
        /** dimensions the model ties together (one symbolic name) given different sizes */
        INCONSISTENT_DIMS,
        /** more memory than one request may take */
        TOO_LARGE,
        /** inputs that passed every check, refused by the runtime (shape constraints the model does not declare) */
        REFUSED_BY_RUNTIME
    }

    private final Rule rule;
    private final String runtimeDetail;

    public InvalidInputException(Rule rule, String message) {
        this(rule, message, null);
    }

    /** @param cause the runtime's exception when it refused the inputs; its text goes to {@link #runtimeDetail()} only */
    public InvalidInputException(Rule rule, String message, Throwable cause) {
        super(message, cause);
        this.rule = Objects.requireNonNull(rule, "rule");
        this.runtimeDetail = cause == null ? null : cause.getMessage();
    }

    /** A {@link Rule#SHAPE}-or-name refusal; kept for callers that predate {@link Rule}. */
    public InvalidInputException(String message) {
        this(Rule.SHAPE, message, null);
    }

    public Rule rule() {
        return rule;
    }

    /** The runtime's own words when it refused the inputs: for logs and operators, never for a client. */
    public java.util.Optional<String> runtimeDetail() {
        return java.util.Optional.ofNullable(runtimeDetail);
    }

    @Override
    public boolean retriable() {
        return false;
    }
}
