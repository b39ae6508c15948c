"""Synthetic patients for search benchmarks: realistic name frequencies, unique identities.

`python -m bench.patients_data --database-url URL --practice prc_... --count 100000`
loads rows straight into the patient table (bulk inserts, one transaction per batch), writes
their search rows and per-status counts in the same transaction (with the functions the ORM
listeners use), and moves the practice's patient-number counter past them, so the API keeps
numbering without gaps.
Nobody in here is real: names are drawn from common-name lists, phones are in fictitious
ranges of real area codes, emails are at example.com.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, update

from dermifi.core.config import sqlalchemy_url
from dermifi.core.db import UNBOUNDED_STATEMENTS, create_engine
from dermifi.core.sequences import NumberSequence
from dermifi.patients.models import Patient
from dermifi.patients.projection import adjust_counts, index_patients

FIRST_NAMES = """James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William
Barbara Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy
Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul
Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie
Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Dorothy Jacob Amy Gary Kathleen
Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry Pamela Justin Nicole Scott Anna
Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Patrick
Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry Helen Tyler Catherine Aaron
Diane Jose Julie Adam Victoria Nathan Joyce Henry Lauren Zachary Kelly Douglas Christina Peter
Ruth Kyle Joan Noah Virginia Ethan Judith Jeremy Evelyn Christian Hannah Walter Andrea Keith
Megan Austin Cheryl Roger Jacqueline Terry Madison Sean Teresa Gerald Abigail Carl Sophia Dylan
Martha Harold Sara Jordan Gloria Jesse Janice Bryan Kathryn Lawrence Ann Arthur Isabella Gabriel
Judy Bruce Charlotte Logan Julia Billy Grace Joe Amber Alan Alice Juan Jean Elijah Denise Willie
Frances Albert Danielle Wayne Marilyn Randy Natalie Mason Beverly Vincent Diana Liam Brittany
Roy Theresa Bobby Kayla Caleb Alexis Bradley Doris Russell Lori Lucas Tiffany Johnny Johanna
Priya Wei Mohammed Fatima Carlos Sofia Mateo Valentina Hiroshi Yuki Aisha Omar""".split()  # noqa: SIM905

LAST_NAMES = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson
White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres
Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez
Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook
Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez
Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell
Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson
Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson
Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald
Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson
Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer
Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels
Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold
Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong
Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews
Pena Richards Contreras Willis Carpenter Lawrence Sandoval Guerrero George Chapman Rios Estrada
Ortega Watkins Greene Nunez Wheeler Valdez Harper Burke Larson Santiago Maldonado Morrison
Franklin Carlson Austin Dominguez Carr Lawson Jacobs Obrien Lynch Singh Vega Bishop Montgomery
Oliver Jensen Harvey Williamson Gilbert Dean Sims Espinoza Howell Li Wong Reid Hanson Le McCoy
Garrett Burton Fuller Wang Weber Welch Rojas Lucas Marquez Fields Park Yang Little Banks Padilla
Day Walsh Bowman Schultz Luna Fowler Mejia Davidson Acosta Brewer May Holland Juarez Newman
Pearson Curtis Cortez Douglas Schneider Joseph Barrett Navarro Figueroa Keller Avila Wade Molina
Stanley Hopkins Campos Barnett Bates Chambers Caldwell Beck Lambert Miranda Byrd Craig Ayala
Lowe Frazier Powers Neal Leonard Gregory Carrillo Sutton Fleming Rhodes Shelton Schwartz Norris
Jennings Watts Duran Walters Cohen McDaniel Moran Parks Steele Vaughn Becker Holt Deleon Barker
Terry Hale Leon Hail Benson Haynes Horton Miles Lyons Pham Graves Bush Thornton Wolfe Warner
Cabrera McKinney Mann Zimmerman Dawson Lara Fletcher Page McCarthy Love Robles Cervantes Solis
Erickson Reeves Chang Klein Salinas Fuentes Baldwin Daniel Simon Velasquez Hardy Higgins Aguirre
Lin Cummings Chandler Sharp Barber Bowen Ochoa Dennis Robbins Liu Ramsey Francis Griffith
Paul Blair Oconnor Cardenas Pacheco Cross Calderon Quinn Moss Swanson Chan Rivas Khan Rodgers
Serrano Fitzgerald Rosales Stevenson Christensen Manning Gill Curry McLaughlin Harmon McGee
Gross Doyle Garner Newton Burgess Reese Walton Blake Trujillo Adkins Brady Goodman Roman Webster
Goodwin Fischer Huang Potter Delacruz Montoya Todd Wu Hines Mullins Castaneda Malone Cannon
Tate Mack Sherman Hubbard Hodges Zhang Guerra Wolf Valencia Saunders Franco Rowe Gallagher
Farmer Hammond Hampton Townsend Ingram Wise Gallegos Clarke Barton Schroeder Maxwell Waters
Logan Camacho Strickland Norman Person Colon Parsons Frank Harrington Glover Osborne Buchanan
Casey Floyd Patton Ibarra Ball Tyler Suarez Bowers Orozco Salas Cobb Gibbs Andrade Bauer Conner
Moody Escobar McGuire Lloyd Mueller Hartman French Kramer McBride Pope Lindsey Velazquez Norton
McCormick Sparks Flynn Yates Hogan Marsh Macias Villanueva Zamora Pratt Stokes Owen Ballard Lang
Brock Villarreal Charles Drake Barrera Cain Patrick Pineda Burnett Mercado Santana Shepherd
Bautista Ali Shaffer Lamb Trevino McKenzie Hess Beil Olsen Cochran Morton Nash Wilkins Petersen
Briggs Shah Roth Nicholson Holloway Lozano Rangel Flowers Hoover Short Arias Mora Valenzuela
Bryan Meyers Weiss Underwood Bass Greer Summers Houston Carson Morrow Clayton Whitaker Decker
Yoder Collier Zuniga Carey Wilcox Melendez Poole Roberson Larsen Conley Davenport Copeland Massey
Lam Huff Rocha Cameron Jefferson Hood Monroe Anthony Pittman Huynh Randall Singleton Kirk Combs
Mathis Christian Skinner Bradford Richard Galvan Wall Boone Kirby Wilkinson Bridges Bruce Atkinson
Velez Meza Roy Vincent York Hodge Villa Abbott Allison Tapia Gates Chase Sosa Sweeney Farrell
Wyatt Dalton Horn Barron Phelps Yu Dickerson Heath Foley Atkins Mathews Bonilla Acevedo Benitez
Zavala Hensley Glenn Cisneros Harrell Shields Rubio Huffman Choi Boyer Garrison Arroyo Bond
Kane Hancock Callahan Dillon Cline Wiggins Grimes Arellano Melton Oneill Savage Ho Beltran Pitts
Parrish Ponce Rich Booth Koch Golden Ware Brennan McDowell Marks Cantu Humphrey Baxter Sawyer
Clay Tanner Hutchinson Kaur Berg Wiley Gilmore Russo Villegas Hobbs Keith Wilkerson Ahmed Beard
McClain Montes Mata Rosario Vang Walter Henson Oneal Mosley McClure Beasley Stephenson Snow
Huerta Preston Vance Barry Johns Eaton Blackwell Dyer Prince Macdonald Solomon Guevara Stafford
English Hurst Woodard Cortes Shannon Kemp Nolan McCullough Merritt Murillo Moon Salgado Strong
Kline Cordova Barajas Roach Rosas Winters Jacobson Lester Knox Bullock Kerr Leach Meadows Orr
Davila Whitehead Pruitt Kent Conway McKee Barr David Dejesus Marin Berger McIntyre Blankenship
Gaines Palacios Cuevas Bartlett Durham Dorsey McCall Odonnell Stein Browning Stout Lowery Sloan
McLean Hendricks Calhoun Sexton Chung Gentry Hull Duarte Ellison Nielsen Gillespie Buck Middleton
Sellers Leblanc Esparza Hardin Bradshaw McIntosh Howe Livingston Frost Glass Morse Knapp Herman
Stark Bravo Noble Spears Weeks Corona Frederick Buckley McFarland Hebert Enriquez Hickman Quintero
Randolph Schaefer Walls Trejo House Reilly Pennington Michael Conrad Giles Benjamin Crosby
Fitzpatrick Donovan Mays Mahoney Valentine Raymond Medrano Hahn McMillan Small Bentley Felix Peck
Lucero Boyle Hanna Pace Rush Hurley Harding McConnell Bernal Nava Ayers Everett Ventura Avery
Pugh Mayer Bender Shepard McMahon Landry Case Sampson Moses Magana Blackburn Dunlap Gould Duffy
Vaughan Herring McKay Espinosa Rivers Farley Bernard Ashley Friedman Potts Truong Costa Correa
Blevins Nixon Clements Fry Delarosa Best Benton Lugo Portillo Dougherty Crane Haley Phan Villalobos
Blanchard Horne Finley Quintana Lynn Esquivel Bean Dodson Mullen Xiong Hayden Cano Levy Huber
Richmond Moyer Lim Frye Sheppard McCarty Avalos Booker Waller Parra Woodward Jaramillo Krueger
Rasmussen Brandt Peralta Donaldson Stuart Faulkner Maynard Galindo Coffey Estes Sanford Burch
Maddox Vo Oconnell Vu Andersen Spence McPherson Church Schmitt Stanton Leal Cherry Compton Dudley
Sierra Pollard Alfaro Hester Proctor Lu Hinton Novak Good Madden McCann Terrell Jarvis Dickson
Reyna Cantrell Mayo Branch Hendrix Rollins Rowland Whitney Duke Odom Daugherty Travis Tang""".split()  # noqa: SIM905, E501

AREA_CODES = ["415", "510", "650", "408", "707", "212", "646", "718", "312", "773", "617",
              "202", "305", "713", "206", "503", "602", "303", "404", "215"]
GENDERS = ["female", "male", "female", "male", "other", "unknown"]
BATCH = 2000


def _rows(practice_id: str, start: int, count: int, year: int, now: datetime,
          rng: random.Random) -> list[dict[str, Any]]:
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    rows = []
    for i in range(start, start + count):
        n, q = i % combos, i // combos
        first = FIRST_NAMES[n % len(FIRST_NAMES)]
        last = LAST_NAMES[n // len(FIRST_NAMES)]
        # Same names recur only in another round q, which moves the birth date: identities
        # (names + date of birth) stay unique, as the active-patient index demands.
        born = date(1930, 1, 1) + timedelta(days=(n * 7 + q * 3) % 33000)
        area = AREA_CODES[i % len(AREA_CODES)]
        exchange = 200 + (i * 37) % 780
        if exchange == 555:
            exchange = 556
        line = (i * 7919) % 10000
        email = f"{first}.{last}.{i}@example.com".lower()
        rows.append({
            "id": f"pat_bench{i:020d}", "practice_id": practice_id,
            "patient_number": f"P-{year}-{i + 1:04d}",
            "first_name": first, "last_name": last, "email": email, "email_key": email,
            "phone": f"+1 ({area}) {exchange}-{line:04d}",
            "phone_digits": f"1{area}{exchange}{line:04d}",
            "date_of_birth": born, "gender": GENDERS[i % len(GENDERS)],
            "identity_key": f"{first.lower()}|{last.lower()}|{born.isoformat()}",
            "address": {"street": f"{100 + i % 9000} Market St", "city": "San Francisco",
                        "state": "CA", "zip_code": "94105"},
            "emergency_contact": None,
            "insurance": {"provider": "Aetna", "member_id": f"AET{i:09d}",
                          "group_number": "GRP001", "copay": 25, "verified": False,
                          "verified_at": None},
            "allergies": [], "medications": [], "conditions": [],
            "consent_to_treat": True, "hipaa_consent": True, "consented_at": now,
            "status": "active" if rng.random() > 0.05 else "inactive",
            "created_at": now - timedelta(seconds=count - (i - start)),
            "created_by": "usr_bench", "updated_at": now, "version": 1,
        })
    return rows


def _upkeep(conn: Connection, practice_id: str, rows: list[dict[str, Any]]) -> None:
    # Core inserts bypass the ORM listeners that keep the search table and the counts.
    index_patients(conn, [row["id"] for row in rows])
    adjust_counts(conn, practice_id, Counter(row["status"] for row in rows))


async def load_patients(database_url: str, practice_id: str, count: int, *, first: int = 0,
                        seed: int = 7, progress: bool = True) -> float:
    """Insert patients ``first`` to ``count - 1`` (``first`` > 0 grows a set loaded before, as
    ``bench --scaling`` does: 10k, then 90k more, ...); returns the seconds it took. Nothing
    may have registered patients through the API in between: the numbers would collide."""
    engine = create_engine(sqlalchemy_url(database_url), timeouts=UNBOUNDED_STATEMENTS)
    rng = random.Random(seed + first)
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    table = Patient.__table__
    try:
        for start in range(first, count, BATCH):
            rows = _rows(practice_id, start, min(BATCH, count - start), now.year, now, rng)
            async with engine.begin() as conn:
                await conn.execute(insert(table), rows)
                await conn.run_sync(_upkeep, practice_id, rows)
            if progress and ((start - first) // BATCH) % 25 == 0:
                print(f"  {start + len(rows):>9,} / {count:,} patients", flush=True)
        async with engine.begin() as conn:
            bumped = await conn.execute(
                update(NumberSequence.__table__)
                .where(NumberSequence.practice_id == practice_id,
                       NumberSequence.name == "patient", NumberSequence.year == now.year)
                .values(last_value=count))
            if bumped.rowcount == 0:
                await conn.execute(insert(NumberSequence.__table__).values(
                    practice_id=practice_id, name="patient", year=now.year, last_value=count))
            if conn.dialect.name != "postgresql":
                await conn.exec_driver_sql("ANALYZE")
        if engine.dialect.name == "postgresql":
            # Statistics for the planner, and the visibility map that lets a list be an
            # index-only scan: what autovacuum gives a deployment minutes after any load.
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM (ANALYZE) patient, patient_search, "
                                           "patient_count")
    finally:
        await engine.dispose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--practice", required=True)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    seconds = asyncio.run(load_patients(args.database_url, args.practice, args.count))
    print(f"loaded {args.count:,} patients in {seconds:.1f} s")


if __name__ == "__main__":
    main()
