import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Tiles from "@cloudscape-design/components/tiles";
import type { Device } from "../api/types.ts";
import { CustomKeyFields } from "./resolve/custom-key-fields.tsx";
import { DeviceRows } from "./resolve/device-rows.tsx";
import type { Mode } from "./resolve/form-checks.ts";
import { SpaceKeyFields } from "./resolve/space-key-fields.tsx";
import { useResolveForm } from "./resolve/use-resolve-form.ts";
import { ResolveProgress } from "./resolve-progress.tsx";

const MODES = [
  {
    value: "space-key",
    label: "Use Space key",
    description:
      "Log in with the admin password, create the admin user when it is missing, and install keyheal's platform key. The devices end key based.",
  },
  {
    value: "custom-key",
    label: "Use custom key",
    description:
      "Log in with your own private key, then install the platform key, or keep your key as the devices' credential.",
  },
];

/**
 * The "Resolve key conflict" action: Space key (admin user and password per device) or custom
 * key (one private key, its passphrase, admin user per device), then the runs' progress. The
 * form's state and submission are in resolve/use-resolve-form.ts, its checks in
 * resolve/form-checks.ts.
 */
export function ResolveModal({ devices, onClose }: { devices: Device[]; onClose: () => void }) {
  const form = useResolveForm(devices);
  const { started, submitting } = form;

  return (
    <Modal
      visible
      size="large"
      onDismiss={onClose}
      closeAriaLabel="Close resolve key conflict"
      header={started ? "Resolving key conflicts" : "Resolve key conflict"}
      footer={
        started ? (
          <Box float="right">
            <Button variant="primary" onClick={onClose}>
              Close
            </Button>
          </Box>
        ) : (
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={onClose} disabled={submitting}>
                Cancel
              </Button>
              <Button
                variant="primary"
                loading={submitting}
                loadingText="Starting the runs"
                onClick={() => void form.submit()}
              >
                Resolve
              </Button>
            </SpaceBetween>
          </Box>
        )
      }
    >
      {started ? (
        <ResolveProgress runs={started.runs} jobIds={started.jobIds} mode={form.mode} />
      ) : (
        <Form errorText={form.problems.form}>
          <SpaceBetween size="l">
            <FormField label="How to log in" stretch>
              <Tiles
                value={form.mode}
                onChange={({ detail }) => form.setMode(detail.value as Mode)}
                ariaLabel="How to log in"
                items={MODES}
              />
            </FormField>
            {form.mode === "custom-key" ? (
              <CustomKeyFields form={form} />
            ) : (
              <SpaceKeyFields form={form} />
            )}
            <DeviceRows form={form} />
          </SpaceBetween>
        </Form>
      )}
    </Modal>
  );
}
