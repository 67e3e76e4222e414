"""Board pages: applications, parameters, members."""

from flask import Blueprint, render_template

bp = Blueprint("board", __name__, url_prefix="/board")


# SKELETON: the board helper replaces this.
@bp.get("/")
def dashboard():
    return render_template("market/home.html")
