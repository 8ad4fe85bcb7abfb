import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import CopyToClipboard from "@cloudscape-design/components/copy-to-clipboard";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useState } from "react";
import { ApiError, api, messageOf } from "../api/client.ts";
import { saveToken } from "../auth.ts";

/**
 * Without a token the console asks for the one the local runtime wrote to its data directory,
 * and checks it against the API before keeping it.
 */
export function SignInPage({ expired, onSignedIn }: { expired: boolean; onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signIn() {
    const value = token.trim();
    if (!value) {
      setError("Paste the token from the api-token file of the runtime's data directory.");
      return;
    }
    setChecking(true);
    setError(null);
    try {
      await api("GET", "/devices?limit=1", undefined, value);
      saveToken(value);
      onSignedIn();
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 401
          ? "The runtime refused this token. Copy the whole content of <data dir>/api-token again; it belongs to the runtime serving this page."
          : messageOf(e),
      );
    } finally {
      setChecking(false);
    }
  }

  return (
    <Box padding={{ vertical: "xxxl", horizontal: "l" }}>
      <div style={{ maxWidth: 640, margin: "0 auto" }}>
        <SpaceBetween size="l">
          {expired ? (
            <Alert type="warning" header="Signed out">
              The runtime refused the token this tab held (it may have been restarted with a new
              one). Sign in again.
            </Alert>
          ) : null}
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void signIn();
            }}
          >
            <Form
              actions={
                <Button
                  variant="primary"
                  loading={checking}
                  loadingText="Checking the token"
                  formAction="submit"
                >
                  Sign in
                </Button>
              }
              errorText={error}
            >
              <Container
                header={
                  <Header
                    variant="h1"
                    description="The console talks to the keyheal runtime's API with the token the runtime made when it started."
                  >
                    Sign in to keyheal
                  </Header>
                }
              >
                <SpaceBetween size="l">
                  <Box variant="p">
                    The runtime prints a link that signs you in at once (
                    <Box variant="code">Console: http://127.0.0.1:PORT/console/#token=…</Box>), and{" "}
                    <Box variant="code">bin/keyheal console</Box> prints it again. Without it, paste
                    the token from the data directory (default <Box variant="code">./.keyheal</Box>
                    ):
                  </Box>
                  <CopyToClipboard
                    variant="inline"
                    textToCopy="cat .keyheal/api-token"
                    copyButtonAriaLabel="Copy the command that prints the token"
                    copySuccessText="Command copied"
                    copyErrorText="Could not copy the command"
                  />
                  <FormField
                    label="API token"
                    description="Kept in this tab only, until you sign out or close it."
                  >
                    <Input
                      type="password"
                      value={token}
                      onChange={({ detail }) => setToken(detail.value)}
                      ariaLabel="API token"
                      autoComplete="off"
                      autoFocus
                    />
                  </FormField>
                </SpaceBetween>
              </Container>
            </Form>
          </form>
        </SpaceBetween>
      </div>
    </Box>
  );
}
