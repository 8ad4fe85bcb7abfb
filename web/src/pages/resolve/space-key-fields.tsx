import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Checkbox from "@cloudscape-design/components/checkbox";
import FormField from "@cloudscape-design/components/form-field";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { SecretInput } from "../../components/states.tsx";
import type { ResolveForm } from "./use-resolve-form.ts";

/**
 * Space key mode: where passwords go, a warning for devices whose host key is not pinned (they
 * are sent no password), and one password for every device when the operator wants it.
 */
export function SpaceKeyFields({ form }: { form: ResolveForm }) {
  const unpinned = form.rows.filter((r) => !r.device.hostKeyFingerprint).map((r) => r.device.id);
  return (
    <SpaceBetween size="m">
      <Box variant="p" color="text-body-secondary">
        Passwords go to the runtime's secret store for 15 minutes at most and each run forgets its
        copy; they never appear in runs, logs or failure records. To create a missing admin user,
        log in as root or a user that may sudo, with that user's password.
      </Box>
      {unpinned.length > 0 ? (
        <Alert type="warning" header="Host key not pinned">
          keyheal sends a password only to a device whose host key it has pinned, and{" "}
          {unpinned.join(", ")} {unpinned.length === 1 ? "has" : "have"} none yet. Give the host-key
          fingerprint in the inventory, let a key-based check pin it, or use a custom key.
        </Alert>
      ) : null}
      {form.rows.length > 1 ? (
        <Checkbox
          checked={form.oneForAll}
          onChange={({ detail }) => form.setOneForAll(detail.checked)}
        >
          Use the same password for every device
        </Checkbox>
      ) : null}
      {form.shareOne ? (
        <FormField label="Password (all devices)">
          <SecretInput
            value={form.sharedPassword}
            onChange={form.setSharedPassword}
            ariaLabel="Password (all devices)"
          />
        </FormField>
      ) : null}
    </SpaceBetween>
  );
}
