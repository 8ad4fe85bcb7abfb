import AppLayout from "@cloudscape-design/components/app-layout";
import BreadcrumbGroup from "@cloudscape-design/components/breadcrumb-group";
import Flashbar from "@cloudscape-design/components/flashbar";
import SideNavigation from "@cloudscape-design/components/side-navigation";
import Spinner from "@cloudscape-design/components/spinner";
import TopNavigation from "@cloudscape-design/components/top-navigation";
import { lazy, Suspense, useEffect, useState } from "react";
import { onUnauthorized } from "./api/client.ts";
import { adoptTokenFromHash, clearToken, readToken } from "./auth.ts";
import { FlashProvider, useFlash } from "./hooks/use-flash.tsx";
import { type Route, useRoute } from "./hooks/use-route.ts";
import { SignInPage } from "./pages/sign-in.tsx";

// One chunk per page (Vite splits at each dynamic import): the first load fetches the shell and
// the page it opens on, not every page's components.
const DevicesPage = lazy(() =>
  import("./pages/devices.tsx").then((m) => ({ default: m.DevicesPage })),
);
const FailuresPage = lazy(() =>
  import("./pages/failures.tsx").then((m) => ({ default: m.FailuresPage })),
);
const KeysPage = lazy(() => import("./pages/keys.tsx").then((m) => ({ default: m.KeysPage })));
const RunDetailPage = lazy(() =>
  import("./pages/run-detail.tsx").then((m) => ({ default: m.RunDetailPage })),
);

// Before the first render: the token leaves the address bar at once.
adoptTokenFromHash();

const NAV_HREF: Record<Route["page"], string> = {
  devices: "#/devices",
  failures: "#/failures",
  keys: "#/keys",
  run: "",
};

const TITLES: Record<Route["page"], string> = {
  devices: "Devices",
  failures: "Failed tasks",
  keys: "Platform keys",
  run: "Run",
};

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "failures":
      return <FailuresPage deviceFromRoute={route.deviceId} />;
    case "keys":
      return <KeysPage />;
    case "run":
      return <RunDetailPage key={route.runId} runId={route.runId} />;
    default:
      return <DevicesPage />;
  }
}

function Console({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const flash = useFlash();
  const [navigationOpen, setNavigationOpen] = useState(true);

  useEffect(() => {
    document.title = `${TITLES[route.page]} · keyheal`;
  }, [route.page]);

  return (
    <>
      <div id="top-nav" style={{ position: "sticky", top: 0, zIndex: 1002 }}>
        <TopNavigation
          identity={{ href: "#/devices", title: "keyheal" }}
          utilities={[
            {
              type: "button",
              text: "Sign out",
              ariaLabel: "Sign out",
              onClick: onSignOut,
            },
          ]}
        />
      </div>
      <AppLayout
        headerSelector="#top-nav"
        navigationOpen={navigationOpen}
        onNavigationChange={({ detail }) => setNavigationOpen(detail.open)}
        toolsHide
        notifications={<Flashbar items={flash.items} stackItems={flash.items.length > 2} />}
        breadcrumbs={
          route.page === "run" ? (
            <BreadcrumbGroup
              ariaLabel="Breadcrumbs"
              items={[
                { text: "keyheal", href: "#/devices" },
                { text: `Run ${route.runId}`, href: `#/runs/${encodeURIComponent(route.runId)}` },
              ]}
            />
          ) : undefined
        }
        navigation={
          <SideNavigation
            header={{ text: "SSH key healing", href: "#/devices" }}
            activeHref={NAV_HREF[route.page]}
            items={[
              { type: "link", text: "Devices", href: "#/devices" },
              { type: "link", text: "Failed tasks", href: "#/failures" },
              { type: "link", text: "Platform keys", href: "#/keys" },
            ]}
          />
        }
        ariaLabels={{
          navigation: "Navigation",
          navigationClose: "Close navigation",
          navigationToggle: "Open navigation",
          notifications: "Notifications",
        }}
        content={
          <Suspense fallback={<Spinner size="large" />}>
            <Page route={route} />
          </Suspense>
        }
      />
    </>
  );
}

export function App() {
  const [signedIn, setSignedIn] = useState(() => readToken() !== null);
  const [expired, setExpired] = useState(false);

  useEffect(
    () =>
      onUnauthorized(() => {
        setExpired(true);
        setSignedIn(false);
      }),
    [],
  );
  // The printed link pasted into a tab that is already open changes only the fragment.
  useEffect(() => {
    const onHash = () => {
      if (adoptTokenFromHash()) {
        setExpired(false);
        setSignedIn(true);
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      }
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  if (!signedIn) {
    return (
      <SignInPage
        expired={expired}
        onSignedIn={() => {
          setExpired(false);
          setSignedIn(true);
          if (!window.location.hash.startsWith("#/")) window.location.hash = "#/devices";
        }}
      />
    );
  }
  return (
    <FlashProvider>
      <Console
        onSignOut={() => {
          clearToken();
          setExpired(false);
          setSignedIn(false);
        }}
      />
    </FlashProvider>
  );
}
