package io.edgefleet.agent.split;

/**
 * Feedback the agent refuses (docs/ab.md "Feedback and accuracy"): always the client's mistake, never counted as a
 * model error nor as a label. Every transport answers it with {@link #status()} and a problem body.
 */
public final class FeedbackException extends RuntimeException {
    private final int status;
    private final String title;

    /**
     * @param status 400 malformed or out of range, 404 unknown model or unknown/expired request id, 409 already labelled
     * @param title the problem's short title
     * @param detail what was wrong, naming the field and the rule (no internal text)
     */
    public FeedbackException(int status, String title, String detail) {
        super(detail);
        this.status = status;
        this.title = title;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }
}
