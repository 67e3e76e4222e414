"""Coop: a task marketplace owned by its workers."""

from pathlib import Path

from flask import Flask

from coop import config as config_module

ROOT = Path(__file__).resolve().parent.parent
# A checkout keeps the templates at its top; an installed wheel carries them inside the package.
PACKAGED_TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATES = PACKAGED_TEMPLATES if PACKAGED_TEMPLATES.is_dir() else ROOT / "templates"


def create_app(config=None) -> Flask:
    """Build the app: defaults, environment, then the overrides given (tests pass a mapping)."""
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_mapping(config_module.from_environment())
    app.config.from_mapping(config or {})
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_FILE_BYTES"] * 8 + 1024 * 1024
    # Flask's defaults hold SECRET_KEY = None, so fill it rather than setdefault.
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.load_secret_key(app.config["INSTANCE_DIR"])

    from coop import db, extensions, files, inputs, jobs, logs, ops, web
    from coop.api.views import bp as api_bp
    from coop.audit import ledger as audit_ledger
    from coop.audit.views import bp as audit_bp
    from coop.auth.password_views import passwords_bp
    from coop.auth.token_views import tokens_bp
    from coop.auth.views import bp as auth_bp
    from coop.board.views import bp as board_bp
    from coop.capital.views import bp as capital_bp
    from coop.delivery.views import bp as delivery_bp
    from coop.governance.views import bp as governance_bp
    from coop.job_views import bp as jobs_bp
    from coop.market.views import bp as market_bp
    from coop.notifications.views import bp as notifications_bp
    from coop.projects.views import bp as projects_bp
    from coop.quality.fraud_views import bp as fraud_bp
    from coop.quality.qualification_views import bp as qualifications_bp
    from coop.quality.views import bp as quality_bp
    from coop.ratings.views import bp as ratings_bp
    from coop.statements.views import bp as statements_bp

    logs.init_app(app)  # first: every later hook's log lines carry the request id
    inputs.init_app(app)  # the `id` URL converter, before any blueprint's routes
    db.init_app(app)
    files.init_app(app)
    audit_ledger.init_app(app)
    extensions.init_app(app)
    web.init_app(app)
    jobs.init_app(app)
    ops.init_app(app)
    blueprints = (auth_bp, tokens_bp, market_bp, delivery_bp, board_bp, audit_bp, api_bp)
    for blueprint in blueprints + (statements_bp, capital_bp, passwords_bp, projects_bp,
                                   quality_bp, qualifications_bp, fraud_bp, jobs_bp,
                                   notifications_bp, governance_bp, ratings_bp):
        app.register_blueprint(blueprint)

    from coop import cli

    cli.init_app(app)
    return app
