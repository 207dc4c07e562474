"""The "Open store" dialog (folder, database file or URL with credentials) and drop helpers."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.errors import FlowdeckError
from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.store.locations import resolve_location
from flowdeck.ui.credentials import (
    Credentials,
    CredentialsUnavailable,
    load_credentials,
    save_credentials,
)
from flowdeck.ui.settings import strip_password

DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SERVER_DB_SCHEMES = ("postgresql", "postgres", "mysql", "mssql")
HTTP_SCHEMES = ("http", "https")


def locations_from_mime(mime: QMimeData) -> list[str]:
    """Local folders and SQLite files in a drop (other files and remote URLs are ignored)."""
    found: list[str] = []
    if not mime.hasUrls():
        return found
    for url in mime.urls():
        if not url.isLocalFile():
            continue
        path = Path(url.toLocalFile())
        if path.is_dir() or (path.is_file() and path.suffix.lower() in DATABASE_SUFFIXES):
            found.append(str(path))
    return found


def url_scheme(location: str) -> str:
    """The base scheme of a URL location ("" for a path)."""
    scheme = urlsplit(location.strip()).scheme.lower()
    return "" if len(scheme) <= 1 else scheme.split("+", 1)[0]


def with_password(url: str, username: str, password: str) -> str:
    """``url`` with username and password in its userinfo (for connecting only, never stored)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = username or (parts.username or "")
    if not user and not password:
        return url
    userinfo = quote(user, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, parts.fragment))


def open_chosen_store(location: str, options: dict[str, str]) -> Store:
    """Open what the dialog returned (lazy: no I/O until the first read)."""
    connect_url = options.get("connect_url")
    if connect_url:
        return open_store(connect_url)
    return open_store(location, **options)


def remembered_options(location: str) -> dict[str, str]:
    """Connection options from the keyring for a recent store (empty when none).

    Local folders and SQLite files never have credentials, so the keyring (whose first use
    imports a crypto library that holds the GIL for ~150 ms) is not consulted for them."""
    resolved = resolve_location(location)
    if not takes_credentials(resolved.kind, resolved.uri):
        return {}
    credentials = load_credentials(location)
    if credentials is None:
        return {}
    return options_for(resolved.kind, resolved.uri, credentials)


def takes_credentials(kind: str, uri: str) -> bool:
    """True for stores reached over a network: tracking servers and database servers."""
    return kind == "rest" or (kind == "sql" and not uri.startswith("sqlite"))


def options_for(kind: str, uri: str, credentials: Credentials) -> dict[str, str]:
    """Store options carrying ``credentials`` for a backend kind."""
    if credentials.is_empty():
        return {}
    if kind == "rest":
        options = {"username": credentials.username, "password": credentials.password}
        options = {k: v for k, v in options.items() if v}
        if credentials.token:
            options["token"] = credentials.token
        return options
    if kind == "sql":
        return {"connect_url": with_password(uri, credentials.username, credentials.password)}
    return {}


def _recent_from_settings() -> list[str]:
    from flowdeck.ui.settings import Settings

    return list(Settings().recent_stores)


class OpenStoreDialog(QDialog):
    """Choose a store: a folder, a SQLite file or a URL; validated before it closes."""

    def __init__(self, recent: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open store")
        self._location = ""
        self._options: dict[str, str] = {}

        self.location_edit = QLineEdit()
        self.location_edit.setPlaceholderText(
            "Folder, .db file, http(s)://server, postgresql://… or mysql+pymysql://…"
        )
        self.location_edit.setClearButtonEnabled(True)
        self.location_edit.textChanged.connect(self._location_changed)
        self.folder_button = QPushButton("Folder…")
        self.folder_button.setToolTip("Choose an mlruns folder")
        self.folder_button.clicked.connect(self._choose_folder)
        self.file_button = QPushButton("Database file…")
        self.file_button.setToolTip("Choose a SQLite database (.db, .sqlite)")
        self.file_button.clicked.connect(self._choose_file)

        self.username_edit = QLineEdit()
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("Instead of a username and password")
        self.remember_check = QCheckBox("Remember credentials (in the system keyring)")
        self.credentials_box = QGroupBox("Credentials (optional)")
        form = QFormLayout(self.credentials_box)
        form.addRow("Username:", self.username_edit)
        form.addRow("Password:", self.password_edit)
        self.token_label = QLabel("Token:")
        form.addRow(self.token_label, self.token_edit)
        form.addRow(self.remember_check)

        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.hide()

        self.recent_list = QListWidget()
        self.recent_list.setToolTip("Double-click to open")
        self.recent_list.currentItemChanged.connect(self._recent_chosen)
        self.recent_list.itemDoubleClicked.connect(self._recent_opened)
        for location in _recent_from_settings() if recent is None else recent:
            item = QListWidgetItem(location)
            item.setToolTip(location)  # plain text: no tags in a location
            self.recent_list.addItem(item)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        location_row = QHBoxLayout()
        location_row.addWidget(self.location_edit, 1)
        location_row.addWidget(self.folder_button)
        location_row.addWidget(self.file_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Location:"))
        layout.addLayout(location_row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.credentials_box)
        self.recent_label = QLabel("Recent stores:")
        layout.addWidget(self.recent_label)
        layout.addWidget(self.recent_list, 1)
        layout.addWidget(self.buttons)
        self.recent_label.setVisible(self.recent_list.count() > 0)
        self.recent_list.setVisible(self.recent_list.count() > 0)
        self._location_changed(self.location_edit.text())
        self.resize(620, 420)

    # --- results -----------------------------------------------------------------------------------

    def result_location(self) -> str:
        """The location the user chose, without any password (safe for the recent list)."""
        return self._location

    def result_options(self) -> dict[str, str]:
        """Connection options: ``username``/``password``/``token`` for a tracking server;
        ``connect_url`` (the URL with the password, in memory only) for a database server."""
        return dict(self._options)

    def credentials(self) -> Credentials:
        return Credentials(
            username=self.username_edit.text().strip(),
            password=self.password_edit.text(),
            token=self.token_edit.text().strip() if self._is_http() else "",
        )

    # --- validation --------------------------------------------------------------------------------

    def accept(self) -> None:
        text = self.location_edit.text().strip()
        if not text:
            self.show_error("Enter a folder, a database file or a URL.")
            return
        try:
            resolved = resolve_location(text)
        except FlowdeckError as error:
            self.show_error(error.message)
            return
        credentials = self.credentials() if self._needs_credentials() else Credentials()
        if self.remember_check.isChecked() and not credentials.is_empty():
            try:
                save_credentials(text, credentials)
            except CredentialsUnavailable as error:
                self.show_error(error.message + " Untick 'Remember credentials' to go on.")
                return
        self._location = strip_password(text) if resolved.kind != "files" else resolved.uri
        self._options = options_for(resolved.kind, resolved.uri, credentials)
        if resolved.kind == "sql" and "connect_url" not in self._options and self._location != text:
            self._options["connect_url"] = resolved.uri  # the password was typed into the URL
        self.show_error("")
        super().accept()

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # --- reactions ---------------------------------------------------------------------------------

    def _is_http(self) -> bool:
        return url_scheme(self.location_edit.text()) in HTTP_SCHEMES

    def _needs_credentials(self) -> bool:
        scheme = url_scheme(self.location_edit.text())
        return scheme in HTTP_SCHEMES or scheme in SERVER_DB_SCHEMES

    def _location_changed(self, text: str) -> None:
        self.show_error("")
        needs = self._needs_credentials()
        self.credentials_box.setVisible(needs)
        self.token_label.setVisible(self._is_http())
        self.token_edit.setVisible(self._is_http())
        if needs:
            remembered = load_credentials(text.strip())
            if remembered is not None:
                self.username_edit.setText(remembered.username)
                self.password_edit.setText(remembered.password)
                self.token_edit.setText(remembered.token)
                self.remember_check.setChecked(True)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open an mlruns folder")
        if folder:
            self.location_edit.setText(folder)

    def _choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            "Open a SQLite database",
            "",
            "SQLite databases (*.db *.sqlite *.sqlite3);;All files (*)",
        )
        if path:
            self.location_edit.setText(path)

    def _recent_chosen(
        self, item: QListWidgetItem | None, _previous: QListWidgetItem | None
    ) -> None:
        if item is not None:
            self.location_edit.setText(item.text())

    def _recent_opened(self, item: QListWidgetItem) -> None:
        self.location_edit.setText(item.text())
        self.accept()
