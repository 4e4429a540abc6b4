package io.edgefleet.agent.coap;

import io.edgefleet.agent.split.Feedback;
import io.edgefleet.agent.split.FeedbackException;
import io.edgefleet.agent.split.SplitRouter;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;

/**
 * The A/B feedback call over CoAP (docs/ab.md "Feedback and accuracy"): {@code POST /feedback/{model}} with the same JSON
 * body as HTTP's {@code POST /v2/models/{m}/feedback}, mapped as the agent maps {@code /infer/{model}}. Answers 2.04
 * Changed when counted (CoAP has no 2.02), else 4.00, 4.04, 4.09 Conflict (already labelled) or 4.13 with the problem's
 * detail as a plain-text diagnostic payload. Runs on Californium's thread: feedback is a map lookup, no inference.
 */
final class FeedbackResource extends CoapResource {
    static final String NAME = "feedback";
    private final SplitRouter splits;

    FeedbackResource(SplitRouter splits) {
        super(NAME);
        this.splits = splits;
    }

    @Override
    public Resource getChild(String name) {
        return new ModelFeedback(name);
    }

    private final class ModelFeedback extends CoapResource {
        ModelFeedback(String model) {
            super(model);
            setParent(FeedbackResource.this);
        }

        @Override
        public void handlePOST(CoapExchange ex) {
            try {
                byte[] body = ex.getRequestPayload();
                if (body != null && body.length > Feedback.MAX_BODY_BYTES) {
                    ex.respond(ResponseCode.REQUEST_ENTITY_TOO_LARGE, "the body is over " + Feedback.MAX_BODY_BYTES + " bytes");
                    return;
                }
                splits.feedback(getName(), Feedback.parse(body == null ? new byte[0] : body));
                ex.respond(ResponseCode.CHANGED);
            } catch (FeedbackException e) {
                ex.respond(e.status() == 409 ? ResponseCode.CONFLICT : CoapApi.code(e.status()), e.getMessage());
            }
        }
    }
}
