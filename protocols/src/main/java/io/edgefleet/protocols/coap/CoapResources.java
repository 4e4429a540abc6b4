package io.edgefleet.protocols.coap;

import io.edgefleet.protocols.Checks;

/** The agent's CoAP resource names. Paths are written without a leading slash, as URI-Path options. */
public final class CoapResources {
    /** {@code POST infer/{model}}: JSON or CBOR body, block-wise for large inputs. */
    public static final String INFER = "infer";
    /** {@code GET models}: observable; notifies when a model version changes. */
    public static final String MODELS = "models";
    /** {@code GET health}. */
    public static final String HEALTH = "health";

    /** CoAP Content-Format numbers (RFC 7252 / IANA registry) the agent speaks. */
    public static final int FORMAT_JSON = 50;
    public static final int FORMAT_CBOR = 60;
    public static final int FORMAT_TEXT = 0;

    private CoapResources() {
    }

    /** {@code infer/{model}}, with the model name validated. */
    public static String inferPath(String model) {
        return INFER + "/" + Checks.id(model, "model");
    }
}
