import Checkbox from "@cloudscape-design/components/checkbox";
import FileUpload from "@cloudscape-design/components/file-upload";
import FormField from "@cloudscape-design/components/form-field";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { SecretInput } from "../../components/states.tsx";
import type { ResolveForm } from "./use-resolve-form.ts";

/** Custom key mode: the private key file, its passphrase, and whether to keep it as the credential. */
export function CustomKeyFields({ form }: { form: ResolveForm }) {
  return (
    <SpaceBetween size="m">
      <FormField
        label="Private key"
        description="The private key the devices accept. It is read in this browser, sent once to the runtime, kept in its secret store for 15 minutes at most, and never shown again."
        constraintText="OpenSSH or PEM; ed25519, RSA of 2048 bits or more, or ECDSA."
        errorText={form.problems.privateKey}
      >
        <FileUpload
          value={form.files}
          onChange={({ detail }) => form.chooseFiles(detail.value)}
          showFileSize
          i18nStrings={{
            uploadButtonText: () => "Choose file",
            dropzoneText: () => "Drop the private key file here",
            removeFileAriaLabel: (_i, name) => `Remove ${name}`,
            limitShowFewer: "Show fewer files",
            limitShowMore: "Show more files",
            errorIconAriaLabel: "Error",
            warningIconAriaLabel: "Warning",
            formatFileSize: (bytes) => `${bytes} bytes`,
          }}
        />
      </FormField>
      <FormField
        label={
          <>
            Passphrase <i>- optional</i>
          </>
        }
        description="The passphrase set when the key was generated; leave empty for a key without one."
        errorText={form.problems.passphrase}
      >
        <SecretInput value={form.passphrase} onChange={form.setPassphrase} ariaLabel="Passphrase" />
      </FormField>
      <Checkbox
        checked={form.adopt}
        onChange={({ detail }) => form.setAdopt(detail.checked)}
        description="The devices end custom key based; keyheal does not install its platform key on them."
      >
        Keep this key as the devices' credential
      </Checkbox>
    </SpaceBetween>
  );
}
