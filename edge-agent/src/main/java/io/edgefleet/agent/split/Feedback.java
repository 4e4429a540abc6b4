package io.edgefleet.agent.split;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A feedback call's body (docs/ab.md "Feedback and accuracy"), the same for every transport:
 * {@code {"id": "<the answer's id>", "label": <true class index>}} or {@code {"id": "...", "correct": true|false}}; other
 * members are ignored. Parsing checks the JSON shape only; {@link SplitRouter#feedback} checks the rest.
 *
 * @param id the request id the answer carried
 * @param label the true class index (classifiers)
 * @param correct whether the answer was right (any model)
 */
public record Feedback(String id, OptionalInt label, Optional<Boolean> correct) {
    /** The largest feedback body read, bytes. */
    public static final int MAX_BODY_BYTES = 4096;
    /** Refuses a member given twice ({"id": .., "correct": true, "correct": false}): which one counts would be a guess. */
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /**
     * Parses a body.
     *
     * @throws FeedbackException 400 naming the member and the rule: not a JSON object, {@code id} missing or not a non-empty
     *     string of at most {@value SplitAnswers#MAX_ID_LENGTH} characters, {@code label} not an integer, {@code correct}
     *     not a boolean, neither or both of them, or a member given twice
     */
    public static Feedback parse(byte[] body) {
        if (body.length > MAX_BODY_BYTES) {
            throw invalid("the body is over " + MAX_BODY_BYTES + " bytes");
        }
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (java.io.IOException e) {
            if (e instanceof com.fasterxml.jackson.core.JsonParseException p && p.getOriginalMessage().startsWith("Duplicate field")) {
                throw invalid("a member is given twice; give each of 'id' and 'label' or 'correct' once");
            }
            throw invalid("the body is not JSON");
        }
        if (n == null || !n.isObject()) {
            throw invalid("the body must be a JSON object {\"id\": ..., \"label\": N} or {\"id\": ..., \"correct\": true|false}");
        }
        JsonNode id = n.get("id");
        if (id == null || !id.isTextual() || id.asText().isEmpty() || id.asText().length() > SplitAnswers.MAX_ID_LENGTH) {
            throw invalid("'id' must be the answer's request id: a non-empty string of at most " + SplitAnswers.MAX_ID_LENGTH + " characters");
        }
        JsonNode label = n.get("label");
        JsonNode correct = n.get("correct");
        if (label != null && !(label.isIntegralNumber() && label.canConvertToInt())) {
            throw invalid("'label' must be an integer class index");
        }
        if (correct != null && !correct.isBoolean()) {
            throw invalid("'correct' must be true or false");
        }
        if ((label == null) == (correct == null)) {
            throw invalid("give exactly one of 'label' (the true class index) and 'correct' (true or false)");
        }
        return new Feedback(id.asText(), label == null ? OptionalInt.empty() : OptionalInt.of(label.asInt()),
                correct == null ? Optional.empty() : Optional.of(correct.asBoolean()));
    }

    private static FeedbackException invalid(String detail) {
        return new FeedbackException(400, "Invalid feedback", detail);
    }
}
