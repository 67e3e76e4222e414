"""Public home, the members' task board, task pages and the client's dashboard."""

from flask import Blueprint, render_template

bp = Blueprint("market", __name__)


@bp.get("/")
def home():
    return render_template("market/home.html")


# SKELETON: the market helper replaces the routes below.
@bp.get("/tasks")
def board():
    return render_template("market/home.html")


@bp.get("/client")
def client_dashboard():
    return render_template("market/home.html")


@bp.get("/tasks/new")
def new_task():
    return render_template("market/home.html")
